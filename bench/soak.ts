/**
 * The soak test of issue 14: N cycles of `up -d --wait` / `down -v` of a
 * 5-service project (a one-shot, a healthy db, a web server with a port, a
 * worker, a cache; a network and a volume), with a kill -9 of pier, or of
 * the container monitor, at a random moment in some cycles. After each
 * cycle it checks that nothing the cycle made is left: containers, rootfs
 * mounts, network namespaces and veths of its containers, bridges and nft
 * tables of its networks, volumes, address leases, monitor processes.
 * Prints the failed cycles and the leaks; exits 1 if there were any.
 * Usage: node dist/bench/soak.js [cycles]   (default 100)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { firewallTable } from '../src/network/firewall.js'
import { hostVethName, netnsName } from '../src/network/attach.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { pierBin } from './common.js'

const cycles = Number(process.argv[2] ?? 100)
const work = mkdtempSync(join(tmpdir(), 'pier-soak-'))
const root = join(work, 'root')
const env = { PATH: process.env.PATH ?? '', PIER_ROOT: root, PIER_NO_CACHE: '1' }
const name = `pier-soak-${process.pid}`

writeFileSync(
  join(work, 'compose.yaml'),
  `name: ${name}
x-s: &s {image: busybox, init: true, stop_grace_period: 1s}
services:
  init: {<<: *s, command: [sh, -c, "echo seeded > /data/seed"], volumes: [data:/data]}
  db: {<<: *s, command: [sh, -c, "touch /tmp/up; exec sleep 600"], healthcheck: {test: [CMD, test, -f, /tmp/up], interval: 1s, start_interval: 100ms, start_period: 10s}, depends_on: {init: {condition: service_completed_successfully}}, volumes: [data:/data]}
  web: {<<: *s, command: [sh, -c, "mkdir -p /w; echo ok > /w/index.html; exec httpd -f -p 80 -h /w"], ports: ["127.0.0.1::80"], depends_on: {db: {condition: service_healthy}}}
  worker: {<<: *s, command: [sh, -c, "while true; do wget -q -O /dev/null http://web/ ; sleep 0.5; done"], depends_on: [web]}
  cache: {<<: *s, command: [sh, -c, "exec nc -ll -p 6379 -e cat"]}
volumes: {data: {}}
`,
)

const pier = (args: string[]) => spawnSync(process.execPath, [pierBin, '--progress', 'quiet', ...args], { cwd: work, env, encoding: 'utf8' })

/** Runs `up -d --wait`, killing pier with SIGKILL after `killAfterMs` when given. */
async function up(killAfterMs?: number): Promise<number | null> {
  const child = spawn(process.execPath, [pierBin, '--progress', 'quiet', 'up', '-d', '--wait'], { cwd: work, env, stdio: 'ignore' })
  const timer = killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
  clearTimeout(timer)
  return code
}

/** The monitor processes that serve this root. */
function monitors(): number[] {
  return execFileSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('monitor.js') && l.includes(root) && !/^\s*\d+\s+Z/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
}

function containerIds(): string[] {
  return existsSync(join(root, 'containers')) ? readdirSync(join(root, 'containers')).filter((f) => /^[0-9a-f]{64}$/.test(f)) : []
}

function bridges(): string[] {
  const dir = join(root, 'networks')
  if (!existsSync(dir)) return []
  // networks/<id>/network.json, written before the bridge exists.
  return readdirSync(dir)
    .filter((id) => existsSync(join(dir, id, 'network.json')))
    .map((id) => (JSON.parse(readFileSync(join(dir, id, 'network.json'), 'utf8')) as { bridge?: string }).bridge)
    .filter((b): b is string => !!b)
}

/** What a cycle left: everything made for containers `ids` and networks with `bridgesSeen`. */
function leaks(ids: string[], bridgesSeen: string[]): string[] {
  const out: string[] = []
  const links = new Set(readdirSync('/sys/class/net'))
  const netns = existsSync('/run/netns') ? new Set(readdirSync('/run/netns')) : new Set<string>()
  const mounts = readFileSync('/proc/mounts', 'utf8')
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })
  for (const id of containerIds()) out.push(`container ${id.slice(0, 12)}`)
  if (mounts.includes(root)) out.push('a mount under the root')
  for (const id of ids) {
    if (netns.has(netnsName(id))) out.push(`netns of ${id.slice(0, 12)}`)
    for (let i = 0; i < 2; i++) if (links.has(hostVethName(id, i))) out.push(`veth ${hostVethName(id, i)}`)
  }
  for (const b of bridgesSeen) {
    if (links.has(b)) out.push(`bridge ${b}`)
    if (tables.includes(firewallTable(b))) out.push(`nft table ${firewallTable(b)}`)
  }
  const volumes = existsSync(join(root, 'volumes')) ? readdirSync(join(root, 'volumes')) : []
  for (const v of volumes) out.push(`volume ${v}`)
  const networks = existsSync(join(root, 'networks')) ? readdirSync(join(root, 'networks')).filter((f) => !f.startsWith('.')) : []
  for (const n of networks) out.push(`network record ${n} (and its leases)`)
  for (const m of monitors()) out.push(`monitor ${m}`)
  return out
}

async function main(): Promise<void> {
  writeFileSync(join(work, 'busybox.tar'), await dockerArchive([await busyboxImage()]))
  if (pier(['image', 'load', '-i', join(work, 'busybox.tar')]).status !== 0) throw new Error('cannot load the busybox image')
  let failed = 0
  let leaked = 0
  const kills = { pier: 0, monitor: 0 }
  const started = Date.now()
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const roll = Math.random()
    // A third of the cycles kill pier during up, a sixth kill the monitor once everything is up.
    const killPier = roll < 1 / 3 ? Math.floor(Math.random() * 2500) : undefined
    const code = await up(killPier)
    if (killPier !== undefined) kills.pier++
    else if (roll < 0.5) {
      for (const pid of monitors()) process.kill(pid, 'SIGKILL')
      kills.monitor++
    }
    const ids = containerIds()
    const bridgesSeen = bridges()
    const problems: string[] = []
    if (killPier === undefined && code !== 0) problems.push(`up exited ${code}`)
    let down = pier(['down', '-v', '-t', '1'])
    if (down.status !== 0) {
      problems.push(`down failed: ${down.stderr.trim()}`)
      down = pier(['down', '-v', '-t', '1'])
    }
    // The monitor leaves once its containers are gone; give it the moment it takes.
    for (let i = 0; i < 50 && monitors().length; i++) await new Promise((r) => setTimeout(r, 100))
    const left = leaks(ids, bridgesSeen)
    if (problems.length) failed++
    if (left.length) leaked++
    if (problems.length || left.length) console.log(`cycle ${cycle}${killPier !== undefined ? ` (pier killed at ${killPier} ms)` : ''}: ${[...problems, ...left.map((l) => `left ${l}`)].join('; ')}`)
    if (left.length) pier(['down', '-v', '-t', '0'])
  }
  console.log(`${cycles} cycles in ${Math.round((Date.now() - started) / 1000)} s: ${failed} failed, ${leaked} leaked (pier killed in ${kills.pier}, the monitor in ${kills.monitor})`)
  if (failed || leaked) process.exitCode = 1
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => {
    pier(['down', '-v', '-t', '0'])
    rmSync(work, { recursive: true, force: true })
  })

/**
 * `up -d` and `down` as whole processes, pier on its embedded engine against
 * docker-compose 1.29 on dockerd, side by side in one run: 1, 10 and 30
 * independent busybox services, a 10-deep depends_on chain, a no-op `up -d`
 * (everything already up) and `down` of the 30. Medians of several runs, and
 * the ratios.
 *
 * It installs Debian's docker.io and docker-compose when they are missing
 * and starts its own dockerd on a private socket and data root, with
 * iptables and IP forwarding left alone (no rule is added to the host), and
 * stops it at the end.
 * Usage: node dist/bench/up.js [runs]   (default 3)
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median, pierBin, timed } from './common.js'

const runs = Number(process.argv[2] ?? 3)
const work = mkdtempSync(join(tmpdir(), 'pier-bench-up-'))
const dockerSocket = '/run/pier-bench-docker.sock'
const dockerEnv = { ...process.env, DOCKER_HOST: `unix://${dockerSocket}`, COMPOSE_INTERACTIVE_NO_CLI: '1' }
// pier's load cache as a user has it (warm after the first run), in the bench's own directory.
const pierEnv = { ...process.env, PIER_ROOT: join(work, 'pier-root'), PIER_CACHE_DIR: join(work, 'pier-cache') }

/** A service that stops at once on SIGTERM (a shell waiting on sleep), so down measures the tools, not grace periods. */
const SERVICE = `image: busybox\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]`

function project(name: string, count: number, chain: boolean): string {
  const file = join(work, `${name}.yaml`)
  const services = Array.from({ length: count }, (_, i) => `  s${i}:\n    ${SERVICE}${chain && i > 0 ? `\n    depends_on: [s${i - 1}]` : ''}\n`).join('')
  writeFileSync(file, `services:\n${services}`)
  return file
}

const tools = {
  pier: (file: string, name: string, args: string[]) => timed(process.execPath, [pierBin, '-f', file, '-p', name, '--progress', 'quiet', ...args], pierEnv),
  compose: (file: string, name: string, args: string[]) => timed('docker-compose', ['-f', file, '-p', name, ...args], dockerEnv),
}

function ensureDocker(): ChildProcess {
  if (!existsSync('/usr/sbin/dockerd') || !existsSync('/usr/bin/docker-compose')) {
    console.log('installing docker.io and docker-compose …')
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'docker.io', 'docker-compose'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  const dataRoot = join(work, 'docker')
  mkdirSync(dataRoot, { recursive: true })
  const daemon = spawn('/usr/sbin/dockerd', ['-H', `unix://${dockerSocket}`, '--data-root', dataRoot, '--exec-root', '/run/pier-bench-docker', '--pidfile', '/run/pier-bench-docker.pid', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none'], { stdio: 'ignore' })
  for (let i = 0; i < 300; i++) {
    if (spawnSync('/usr/bin/docker', ['-H', `unix://${dockerSocket}`, 'info'], { stdio: 'ignore' }).status === 0) return daemon
    spawnSync('sleep', ['0.1'])
  }
  daemon.kill()
  throw new Error('dockerd did not start')
}

async function main(): Promise<void> {
  const daemon = ensureDocker()
  try {
    const archive = join(work, 'busybox.tar')
    writeFileSync(archive, await dockerArchive([await busyboxImage(['busybox:latest'])]))
    execFileSync('/usr/bin/docker', ['load', '-i', archive], { env: dockerEnv, stdio: 'ignore' })
    execFileSync(process.execPath, [pierBin, 'image', 'load', '-i', archive], { env: pierEnv, stdio: 'ignore' })

    const scenarios = [
      { label: '1 service', file: project('one', 1, false) },
      { label: '10 services', file: project('ten', 10, false) },
      { label: '30 services', file: project('thirty', 30, false) },
      { label: '10-deep depends_on chain', file: project('chain', 10, true) },
    ]
    const results: { what: string; pier: number[]; compose: number[] }[] = []
    for (const s of scenarios) {
      const up = { what: `up -d, ${s.label}`, pier: [] as number[], compose: [] as number[] }
      const noop = { what: `no-op up -d, ${s.label}`, pier: [] as number[], compose: [] as number[] }
      const down = { what: `down, ${s.label}`, pier: [] as number[], compose: [] as number[] }
      for (let r = 0; r < runs; r++) {
        for (const tool of ['pier', 'compose'] as const) {
          const name = `bench${r}${tool}`
          up[tool].push(tools[tool](s.file, name, ['up', '-d']))
          noop[tool].push(tools[tool](s.file, name, ['up', '-d']))
          down[tool].push(tools[tool](s.file, name, ['down']))
        }
      }
      results.push(up, noop, down)
      for (const row of [up, noop, down]) print(row)
    }
  } finally {
    daemon.kill('SIGTERM')
    await new Promise((r) => daemon.once('exit', r))
    spawnSync('umount', ['-R', join(work, 'docker')], { stdio: 'ignore' })
    rmSync(work, { recursive: true, force: true })
  }
}

function print(row: { what: string; pier: number[]; compose: number[] }): void {
  const p = median(row.pier)
  const c = median(row.compose)
  console.log(`${row.what.padEnd(36)} pier ${p.toFixed(0).padStart(6)} ms   docker-compose ${c.toFixed(0).padStart(6)} ms   pier/compose ${(p / c).toFixed(2)}`)
}

console.log(`pier (embedded engine) against docker-compose 1.29 on dockerd, ${runs} runs each, medians; busybox services`)
main().catch((err) => {
  console.error(err)
  process.exit(1)
})

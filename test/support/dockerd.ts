import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { DockerEngine } from '../../src/engine/docker/engine.js'
import { busyboxImage, dockerArchive } from './images.js'

/**
 * A Docker daemon for the tests: DOCKER_HOST's when one answers there,
 * else one of our own — docker.io installed if missing, dockerd started on
 * /run/pier-test-docker.sock with a temporary data root, no default bridge
 * and no iptables rules, so it touches nothing of the host's. Shared by the
 * test files of one process (counted), stopped and its data root removed
 * by the last `release`, and killed if the process exits first.
 */

export const TEST_SOCKET = '/run/pier-test-docker.sock'
const EXEC_ROOT = '/run/pier-test-docker'
const PIDFILE = '/run/pier-test-docker.pid'

interface Daemon {
  host: string
  /** Our own dockerd (else someone else's, which we only clean by label). */
  own: boolean
  stop: () => Promise<void>
}

export type DaemonKind = 'docker' | 'podman'
const shared = new Map<DaemonKind, { daemon: Promise<Daemon>; users: number }>()

function ping(socketOrHost: string): Promise<boolean> {
  const target = socketOrHost.startsWith('unix://') ? { socketPath: socketOrHost.slice(7) } : (() => {
    const u = new URL(socketOrHost.replace(/^tcp:/, 'http:'))
    return { host: u.hostname, port: Number(u.port || 2375) }
  })()
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => {
      req.destroy()
      resolve(false)
    })
    req.end()
  })
}

async function startOwn(): Promise<Daemon> {
  if (!existsSync('/usr/sbin/dockerd')) {
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'docker.io'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  // A daemon a killed run left behind: stop it before starting ours.
  if (existsSync(PIDFILE)) {
    const pid = Number(readFileSync(PIDFILE, 'utf8'))
    try {
      process.kill(pid, 'SIGTERM')
      for (let i = 0; i < 100; i++) {
        process.kill(pid, 0)
        await new Promise((r) => setTimeout(r, 100))
      }
    } catch {
      // Gone.
    }
  }
  const dataRoot = mkdtempSync(join(tmpdir(), 'pier-dockerd-'))
  const args = ['-H', `unix://${TEST_SOCKET}`, '--data-root', dataRoot, '--exec-root', EXEC_ROOT, '--pidfile', PIDFILE, '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--bridge=none']
  // Its log goes to a file, not a pipe: a test blocked in spawnSync would not drain a pipe, and dockerd would stall on it.
  const logFile = `${dataRoot}.log`
  const logFd = openSync(logFile, 'w')
  const child: ChildProcess = spawn('/usr/sbin/dockerd', args, { stdio: ['ignore', logFd, logFd] })
  closeSync(logFd)
  return daemonOf(child, `unix://${TEST_SOCKET}`, [dataRoot, EXEC_ROOT], () => {
    rmSync(TEST_SOCKET, { force: true })
    rmSync(logFile, { force: true })
  }, logFile)
}

/**
 * Waits for a started daemon to answer; its `stop` ends it (SIGTERM, then
 * SIGKILL after 20 s), unmounts what it left under `dirs`, and removes them.
 */
async function daemonOf(child: ChildProcess, host: string, dirs: string[], after: () => void, logFile: string): Promise<Daemon> {
  const onExit = () => child.kill('SIGKILL')
  process.on('exit', onExit)
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const stop = async () => {
    process.off('exit', onExit)
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
    after()
    // Whatever the daemon left mounted under its directories (overlay layers, shm, netns) before they go.
    for (const dir of dirs) spawnSync('umount', ['-R', '-l', dir], { stdio: 'ignore' })
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
      const point = line.split(' ')[4]
      if (point && dirs.some((d) => point.startsWith(d))) spawnSync('umount', ['-l', point], { stdio: 'ignore' })
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    return log
  }
  for (let i = 0; i < 600; i++) {
    if (await ping(host)) return { host, own: true, stop: async () => void (await stop()) }
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const log = await stop()
  throw new Error(`${child.spawnfile} did not start:\n${log.split('\n').slice(-20).join('\n')}`)
}

/** The daemon's address; call `releaseDaemon` once per call, in an `after`. */
export async function acquireDaemon(kind: DaemonKind = 'docker'): Promise<Daemon> {
  let entry = shared.get(kind)
  if (!entry) {
    const theirs = kind === 'docker' ? process.env.DOCKER_HOST : undefined
    entry = { daemon: (async () => (theirs && (await ping(theirs)) ? { host: theirs, own: false, stop: async () => {} } : kind === 'podman' ? startPodman() : startOwn()))(), users: 0 }
    shared.set(kind, entry)
  }
  entry.users++
  try {
    return await entry.daemon
  } catch (e) {
    shared.delete(kind)
    throw e
  }
}

export async function releaseDaemon(kind: DaemonKind = 'docker'): Promise<void> {
  const entry = shared.get(kind)
  if (!entry || --entry.users > 0) return
  shared.delete(kind)
  await (await entry.daemon).stop()
}

export const hasPodman = () => existsSync('/usr/bin/podman')

const FIREWALL_CHAIN = /^(NETAVARK|CNI-)/

/** The iptables chains Podman's network backends make (netavark's, CNI's), as `table chain`. */
export function podmanChains(): Set<string> {
  const out = new Set<string>()
  for (const table of ['filter', 'nat', 'mangle']) {
    const r = spawnSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' })
    for (const line of r.stdout?.split('\n') ?? []) if (line.startsWith('-N ') && FIREWALL_CHAIN.test(line.slice(3))) out.add(`${table} ${line.slice(3)}`)
  }
  return out
}

/** Removes the chains Podman made that were not there before (`keep`), and the rules that jump to them. */
export function removePodmanChains(keep: Set<string>): void {
  for (const table of ['filter', 'nat', 'mangle']) {
    const lines = spawnSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' }).stdout?.split('\n') ?? []
    const chains = lines.filter((l) => l.startsWith('-N ') && FIREWALL_CHAIN.test(l.slice(3)) && !keep.has(`${table} ${l.slice(3)}`)).map((l) => l.slice(3))
    if (!chains.length) continue
    for (const line of lines) {
      const args = line.match(/"[^"]*"|\S+/g)?.map((a) => a.replace(/^"|"$/g, '')) ?? []
      const jump = args[args.indexOf('-j') + 1]
      if (args[0] === '-A' && args.includes('-j') && chains.includes(jump) && !chains.includes(args[1])) spawnSync('iptables', ['-t', table, '-D', ...args.slice(1)], { stdio: 'ignore' })
    }
    for (const c of chains) spawnSync('iptables', ['-t', table, '-F', c], { stdio: 'ignore' })
    for (const c of chains) spawnSync('iptables', ['-t', table, '-X', c], { stdio: 'ignore' })
  }
}

/** The host's nftables tables, as `family name` (none when nft is not installed). */
export function firewallTables(): Set<string> {
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' })
  return new Set((r.stdout ?? '').split('\n').flatMap((l) => (l.startsWith('table ') ? [l.slice(6).trim()] : [])))
}

/** Deletes the tables that were not there before (`before`) and hold no rule: what a test's daemon left, nothing of anyone else's. */
export function removeEmptyTables(before: Set<string>): void {
  for (const table of firewallTables()) {
    if (before.has(table)) continue
    const [family, name] = table.split(' ')
    const listing = spawnSync('nft', ['-j', 'list', 'table', family, name], { encoding: 'utf8' })
    let entries: Record<string, unknown>[]
    try {
      entries = (JSON.parse(listing.stdout) as { nftables: Record<string, unknown>[] }).nftables
    } catch {
      continue
    }
    if (entries.some((e) => 'rule' in e || 'set' in e || 'map' in e)) continue
    spawnSync('nft', ['delete', 'table', family, name], { stdio: 'ignore' })
  }
}

/**
 * Podman's Docker-compatible service on /run/pier-test-podman.sock, with
 * its storage, run state and network configuration in a temporary
 * directory (so the host's podman is untouched), cgroupfs and file events
 * (no systemd here), and netavark when installed (with aardvark-dns, names
 * resolve between containers; CNI without the dnsname plugin resolves none).
 */
async function startPodman(): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'pier-podman-'))
  const socket = '/run/pier-test-podman.sock'
  rmSync(socket, { force: true })
  const logFd = openSync(join(dir, 'log'), 'w')
  const global = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--network-config-dir', join(dir, 'net'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...(existsSync('/usr/lib/podman/netavark') ? ['--network-backend', 'netavark'] : [])]
  // Podman raises root's containers' open files and processes to 1048576 and more, which this machine refuses
  // (EPERM from setrlimit): the open files we have, and a modest number of processes (96364, our hard limit, is refused too).
  const nofile = /^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '1024'
  writeFileSync(join(dir, 'containers.conf'), `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=4096:4096"]\n`)
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') }
  const chainsBefore = podmanChains()
  const tablesBefore = firewallTables()
  // Paths outside its roots that podman, CNI and netavark write anyway: removed after if they were not there before.
  const strays = ['/var/lib/cni', '/run/containers', '/var/lib/containers', '/etc/cni/net.d/cni.lock'].filter((p) => !existsSync(p))
  const child = spawn('/usr/bin/podman', [...global, 'system', 'service', '--time=0', `unix://${socket}`], { stdio: ['ignore', logFd, logFd], env })
  closeSync(logFd)
  return daemonOf(child, `unix://${socket}`, [dir], () => {
    // Containers the service left running have conmon processes of their own: podman stops them.
    spawnSync('/usr/bin/podman', [...global, 'rm', '-a', '-f', '-t', '0'], { stdio: 'ignore' })
    spawnSync('/usr/bin/podman', [...global, 'system', 'reset', '-f'], { stdio: 'ignore' })
    rmSync(socket, { force: true })
    // netavark leaves its chains (empty) and the rules jumping to them in the host's iptables.
    removePodmanChains(chainsBefore)
    // ... and the iptables tables it made for them (`ip nat`, `ip filter`), left with empty built-in chains.
    removeEmptyTables(tablesBefore)
    for (const p of strays) rmSync(p, { recursive: true, force: true })
    // An exec's conmon lingers 300 s (--exit-delay) after the exec ended: end the ones of this service, by their ids.
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/usr/bin/conmon') && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(Number(pid), 'SIGKILL')
      } catch {
        // Gone meanwhile.
      }
    }
  }, join(dir, 'log'))
}

/** Loads the test busybox image through the driver, as `busybox:latest`. */
export async function loadBusybox(engine: DockerEngine): Promise<void> {
  await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['busybox:latest'])])))
}

/**
 * A DockerEngine on the test daemon with busybox loaded. `cleanup` removes
 * what carries `labels` (everything, on our own daemon), fails if the tests
 * left any of it, and releases the daemon whatever happens.
 */
export async function dockerWithBusybox(labels: Record<string, string> = {}, kind: DaemonKind = 'docker'): Promise<{ engine: DockerEngine; host: string; cleanup: () => Promise<void> }> {
  const daemon = await acquireDaemon(kind)
  let engine: DockerEngine | undefined
  try {
    engine = await DockerEngine.connect(daemon.host)
    await loadBusybox(engine)
  } catch (e) {
    await engine?.close()
    await releaseDaemon(kind)
    throw e
  }
  const e = engine
  const scope = daemon.own ? {} : labels
  const cleanup = async () => {
    try {
      const left: string[] = []
      for (const c of await e.listContainers(scope, { all: true })) {
        left.push(`container ${c.name}`)
        await e.remove(c.id, { force: true, volumes: true })
      }
      for (const n of await e.listNetworks(scope)) {
        if (['bridge', 'host', 'none'].includes(n.name)) continue
        left.push(`network ${n.name}`)
        await e.removeNetwork(n.id)
      }
      for (const v of await e.listVolumes(scope)) {
        left.push(`volume ${v.name}`)
        await e.removeVolume(v.name)
      }
      assert.deepEqual(left, [], 'the tests left these on the daemon')
    } finally {
      await e.close()
      await releaseDaemon(kind)
    }
  }
  return { engine: e, host: daemon.host, cleanup }
}

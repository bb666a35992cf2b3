import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
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

let shared: { daemon: Promise<Daemon>; users: number } | undefined

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
  const onExit = () => child.kill('SIGKILL')
  process.on('exit', onExit)
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const stop = async () => {
    process.off('exit', onExit)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
    // Whatever the daemon left mounted under its roots (overlay layers, shm, netns) before the directories go.
    for (const dir of [dataRoot, EXEC_ROOT]) spawnSync('umount', ['-R', '-l', dir], { stdio: 'ignore' })
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
      const point = line.split(' ')[4]
      if (point && (point.startsWith(dataRoot) || point.startsWith(EXEC_ROOT))) spawnSync('umount', ['-l', point], { stdio: 'ignore' })
    }
    rmSync(dataRoot, { recursive: true, force: true })
    rmSync(EXEC_ROOT, { recursive: true, force: true })
    rmSync(TEST_SOCKET, { force: true })
    rmSync(logFile, { force: true })
  }
  for (let i = 0; i < 600; i++) {
    if (await ping(`unix://${TEST_SOCKET}`)) return { host: `unix://${TEST_SOCKET}`, own: true, stop }
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const log = readFileSync(logFile, 'utf8')
  await stop()
  throw new Error(`dockerd did not start:\n${log.split('\n').slice(-20).join('\n')}`)
}

/** The daemon's address; call `releaseDockerd` once per call, in an `after`. */
export async function acquireDockerd(): Promise<Daemon> {
  if (!shared) {
    const theirs = process.env.DOCKER_HOST
    shared = { daemon: (async () => (theirs && (await ping(theirs)) ? { host: theirs, own: false, stop: async () => {} } : startOwn()))(), users: 0 }
  }
  shared.users++
  try {
    return await shared.daemon
  } catch (e) {
    shared = undefined
    throw e
  }
}

export async function releaseDockerd(): Promise<void> {
  if (!shared || --shared.users > 0) return
  const d = shared.daemon
  shared = undefined
  await (await d).stop()
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
export async function dockerWithBusybox(labels: Record<string, string> = {}): Promise<{ engine: DockerEngine; host: string; cleanup: () => Promise<void> }> {
  const daemon = await acquireDockerd()
  let engine: DockerEngine | undefined
  try {
    engine = await DockerEngine.connect(daemon.host)
    await loadBusybox(engine)
  } catch (e) {
    await engine?.close()
    await releaseDockerd()
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
      await releaseDockerd()
    }
  }
  return { engine: e, host: daemon.host, cleanup }
}

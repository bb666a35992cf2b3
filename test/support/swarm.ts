import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { busyboxImage, dockerArchive } from './images.js'

/**
 * A real three-node Docker Swarm on this machine: three dockerd, each in a
 * network namespace of its own (and a UTS namespace, so each node has its
 * own hostname), with its own data root, exec root and socket, joined over
 * a bridge the test makes (10.231.0.0/24: outside pier's pool 10.200.0.0/16
 * and Docker's defaults) as one manager and two workers. A docker-registry
 * on the bridge's address holds the test image, built from busybox-static;
 * the daemons trust it as an insecure registry. iptables stays on: each
 * daemon's rules live in its own namespace and vanish with it.
 * `stop` removes everything even after a failure: daemons, their shims,
 * mounts, namespaces, the bridge, the directories.
 */

const BRIDGE = 'pierswbr0'
const SUBNET = '10.231.0'
export const REGISTRY = `${SUBNET}.1:5000`
export const IMAGE = `${REGISTRY}/pier-swarm/busybox:1`
const ROOT = '/run/pier-swarm-test'

export class SwarmNode {
  process?: ChildProcess
  constructor(
    readonly name: string,
    readonly addr: string,
  ) {}

  get dir(): string {
    return join(ROOT, this.name)
  }

  get host(): string {
    return `unix://${join(this.dir, 'docker.sock')}`
  }

  /** Its daemon's exec root: short, since containerd's socket path lives under it. */
  get execRoot(): string {
    return `/run/${this.name}`
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true })
    const log = openSync(join(this.dir, 'log'), 'a')
    const dockerd = ['/usr/sbin/dockerd', '-H', this.host, '--data-root', join(this.dir, 'data'), '--exec-root', this.execRoot, '--pidfile', join(this.dir, 'pid'), '--insecure-registry', REGISTRY, '--ip6tables=false']
    // nsenter keeps the mount namespace (dockerd needs the host's cgroup mounts; `ip netns exec` would remount /sys).
    this.process = spawn('nsenter', [`--net=/run/netns/${this.name}`, 'unshare', '--uts', 'sh', '-c', `hostname ${this.name} && exec "$@"`, 'sh', ...dockerd], { stdio: ['ignore', log, log] })
    closeSync(log)
    const child = this.process
    process.on('exit', () => child.kill('SIGKILL'))
    for (let i = 0; i < 600; i++) {
      if (await ping(this.host)) return
      if (child.exitCode !== null) break
      await sleep(100)
    }
    throw new Error(`dockerd of ${this.name} did not start:\n${readFileSync(join(this.dir, 'log'), 'utf8').split('\n').slice(-15).join('\n')}`)
  }

  /** SIGTERM (its tasks' containers are stopped), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    const child = this.process
    this.process = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    if ((await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)])) === false) {
      child.kill('SIGKILL')
      await exited
    }
  }

  /** A call on this node's API: JSON in and out. */
  api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return call(this.host, method, path, body, headers) as Promise<T>
  }
}

export class TestSwarm {
  readonly nodes = [1, 2, 3].map((i) => new SwarmNode(`pier-sw-${i}`, `${SUBNET}.${10 + i}`))
  private registry?: ChildProcess

  get manager(): SwarmNode {
    return this.nodes[0]
  }

  static async start(): Promise<TestSwarm> {
    const swarm = new TestSwarm()
    try {
      await swarm.boot()
    } catch (e) {
      await swarm.stop()
      throw e
    }
    return swarm
  }

  private async boot(): Promise<void> {
    if (!existsSync('/usr/sbin/dockerd')) execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'docker.io'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    cleanLeftovers(this.nodes)
    sh('ip', 'link', 'add', BRIDGE, 'type', 'bridge')
    sh('ip', 'addr', 'add', `${SUBNET}.1/24`, 'dev', BRIDGE)
    sh('ip', 'link', 'set', BRIDGE, 'up')
    for (const [i, n] of this.nodes.entries()) {
      sh('ip', 'netns', 'add', n.name)
      sh('ip', 'link', 'add', `pswv${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.name)
      sh('ip', 'link', 'set', `pswv${i + 1}`, 'master', BRIDGE, 'up')
      sh('ip', '-n', n.name, 'addr', 'add', `${n.addr}/24`, 'dev', 'eth0')
      sh('ip', '-n', n.name, 'link', 'set', 'eth0', 'up')
      sh('ip', '-n', n.name, 'link', 'set', 'lo', 'up')
    }
    this.startRegistry()
    await Promise.all(this.nodes.map((n) => n.start()))
    // A one-second heartbeat, so a stopped node is seen down (and its tasks rescheduled) within seconds.
    await this.manager.api('POST', '/swarm/init', { ListenAddr: `${this.manager.addr}:2377`, AdvertiseAddr: this.manager.addr, Spec: { Dispatcher: { HeartbeatPeriod: 1_000_000_000 }, Orchestration: { TaskHistoryRetentionLimit: 2 } } })
    const { JoinTokens } = await this.manager.api<{ JoinTokens: { Worker: string } }>('GET', '/swarm')
    for (const n of this.nodes.slice(1)) await n.api('POST', '/swarm/join', { ListenAddr: `${n.addr}:2377`, AdvertiseAddr: n.addr, RemoteAddrs: [`${this.manager.addr}:2377`], JoinToken: JoinTokens.Worker })
    await this.readyNodes(3)
    await this.pushImage()
  }

  private startRegistry(): void {
    const dir = join(ROOT, 'registry')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'config.yml'), ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, 'http:', `  addr: ${REGISTRY}`, ''].join('\n'))
    this.registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
    const child = this.registry
    process.on('exit', () => child.kill('SIGKILL'))
  }

  /** The busybox-static image, loaded into the manager and pushed to the registry (the workers pull it from there). */
  private async pushImage(): Promise<void> {
    const archive = await dockerArchive([await busyboxImage([IMAGE])])
    await call(this.manager.host, 'POST', '/images/load?quiet=1', archive, { 'Content-Type': 'application/x-tar' })
    const [repo, tag] = [IMAGE.slice(0, IMAGE.lastIndexOf(':')), IMAGE.slice(IMAGE.lastIndexOf(':') + 1)]
    const out = (await call(this.manager.host, 'POST', `/images/${repo}/push?tag=${tag}`, undefined, { 'X-Registry-Auth': Buffer.from('{}').toString('base64') }, true)) as string
    if (out.includes('"error"')) throw new Error(`push of ${IMAGE} failed: ${out}`)
  }

  /** Waits until `count` nodes are ready; returns their IDs by hostname. */
  async readyNodes(count: number, timeoutMs = 60_000): Promise<Map<string, string>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const nodes = await this.manager.api<{ ID: string; Description: { Hostname: string }; Status: { State: string } }[]>('GET', '/nodes')
      const ready = nodes.filter((n) => n.Status.State === 'ready')
      if (ready.length === count) return new Map(nodes.map((n) => [n.Description.Hostname, n.ID]))
      if (Date.now() > deadline) throw new Error(`nodes not ready: ${nodes.map((n) => `${n.Description.Hostname}=${n.Status.State}`).join(', ')}`)
      await sleep(300)
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()))
    if (this.registry && this.registry.exitCode === null) {
      const exited = new Promise((r) => this.registry!.once('exit', r))
      this.registry.kill('SIGTERM')
      await exited
    }
    cleanLeftovers(this.nodes)
  }
}

/**
 * What a run leaves (or a killed run left): containerd shims of the
 * nodes, mounts under their roots (overlay layers, netns files), the
 * namespaces, the bridge, the directories.
 */
function cleanLeftovers(nodes: SwarmNode[]): void {
  const roots = [ROOT, ...nodes.map((n) => n.execRoot)]
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (roots.some((r) => cmd.includes(`${r}/`)) || nodes.some((n) => cmd.includes(`/run/netns/${n.name}\0`))) process.kill(Number(pid), 'SIGKILL')
    } catch {
      // Gone meanwhile.
    }
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const point = line.split(' ')[4]
    if (point && roots.some((r) => point === r || point.startsWith(`${r}/`))) spawnSync('umount', ['-l', point], { stdio: 'ignore' })
  }
  for (const n of nodes) spawnSync('ip', ['netns', 'del', n.name], { stdio: 'ignore' })
  spawnSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' })
  for (const r of roots) rmSync(r, { recursive: true, force: true })
}

function sh(...args: string[]): void {
  execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function ping(host: string): Promise<boolean> {
  return call(host, 'GET', '/_ping').then(() => true, () => false)
}

/** One request to a node's API (unversioned: the daemon's own version); a 4xx/5xx rejects with the daemon's message. */
function call(host: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, text = false): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body))
    const req = request({ socketPath: host.slice('unix://'.length), method, path, timeout: 120_000, headers: { ...(data && !Buffer.isBuffer(body) ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const out = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode! >= 400) return reject(new Error(`${method} ${path}: ${res.statusCode} ${out.trim()}`))
        if (text) return resolve(out)
        try {
          resolve(out ? JSON.parse(out) : undefined)
        } catch {
          resolve(out)
        }
      })
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)))
    req.end(data)
  })
}

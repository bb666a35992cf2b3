import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { distPath } from '../../../paths.js'
import { promisify } from 'node:util'
import type { Readable } from 'node:stream'
import type { Container, ContainerSpec, ExecSpec, Labels, LogLine, LogOptions, ProcessList } from '../../engine.js'
import { EngineError } from '../../errors.js'
import type { ImageStore } from '../images/store.js'
import type { Root } from '../root.js'
import type { VolumeStore } from '../volumes.js'
import { copyFrom, copyTo, hostMounts } from './copy.js'
import { mountRootfs, unmountRootfs } from './rootfs.js'
import { Runtime } from './runtime.js'
import { allCapabilities, hostLimits, runtimeSpec } from './spec.js'
import { files, readJson, underTerminal, writeJson, type ContainerRecord, type ContainerRunState } from './state.js'
import { resolveUser } from './users.js'
import { attach, detach, type ContainerNetworking } from '../../../network/attach.js'
import { hostConf, hostsFile, resolvConf, type Endpoint } from '../../../network/names.js'
import type { NetworkStore } from '../../../network/networks.js'

const exec = promisify(execFile)
// A file of its own, not part of the CLI bundle: it runs as its own process.
const monitorScript = distPath('src', 'engine', 'embedded', 'containers', 'monitor.js')

/**
 * The container half of the embedded engine. A container is a directory
 * (containers/<id>/) holding what pier decided (record.json, written once),
 * what happened (state.json, written by its monitor), its log, and its
 * runtime bundle; the truth about running processes comes from the OCI
 * runtime, asked each time.
 */
export class ContainerManager {
  private runtimeCache?: Runtime

  constructor(
    private readonly root: Root,
    private readonly images: ImageStore,
    private readonly volumes: VolumeStore,
    private readonly networks: NetworkStore,
  ) {}

  private monitorProcess?: ChildProcess

  /**
   * This process's monitor, started on first use: detached, so it outlives
   * pier, and fed container directories through its stdin, which closes when
   * pier exits (or at close()); see monitor.ts.
   */
  private monitor(): NodeJS.WritableStream {
    const current = this.monitorProcess
    if (current && current.exitCode === null && current.signalCode === null && current.stdin?.writable) return current.stdin
    const child = spawn(process.execPath, [monitorScript, this.runtime.binary, this.runtime.stateDir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
    child.unref()
    // Neither the pipe nor the child keeps this process alive.
    ;(child.stdin as unknown as { unref?: () => void }).unref?.()
    child.stdin!.on('error', () => undefined)
    this.monitorProcess = child
    return child.stdin!
  }

  /** Lets the monitor go once its containers are done (it would at this process's exit anyway). */
  close(): void {
    this.monitorProcess?.stdin?.end()
    this.monitorProcess = undefined
  }

  private get runtime(): Runtime {
    this.runtimeCache ??= Runtime.detect(this.root.path('runtime'))
    return this.runtimeCache
  }

  private dir(id: string): string {
    return this.root.path('containers', id)
  }

  async create(spec: ContainerSpec): Promise<Container> {
    const image = await this.images.require(spec.image)
    const id = randomBytes(32).toString('hex')
    const dir = this.dir(id)
    await this.root.withLock('containers', async () => {
      const taken = (await this.records()).find((r) => r.name === spec.name)
      if (taken) throw new EngineError('conflict', `the container name "${spec.name}" is already in use by container ${taken.id.slice(0, 12)}: remove it or choose another name`)
      await mkdir(dir, { recursive: true })
      const anonymousVolumes: string[] = []
      const mounts = []
      for (const m of spec.mounts) {
        if (m.type === 'volume' && m.source === '') {
          const v = await this.volumes.createAnonymous()
          anonymousVolumes.push(v.name)
          mounts.push({ ...m, source: v.name })
        } else mounts.push(m)
      }
      const record: ContainerRecord = {
        id,
        name: spec.name,
        image: image.id,
        layers: image.layers.map((l) => this.images.layers.dir(l.diffId)),
        spec: { ...spec, mounts, image: image.id },
        createdAt: new Date().toISOString(),
        anonymousVolumes,
      }
      await writeJson(files(dir).state, { status: 'created', restartCount: 0 } satisfies ContainerRunState)
      await writeJson(files(dir).record, record)
    })
    return (await this.inspect(id))!
  }

  async start(idOrName: string): Promise<void> {
    const record = await this.require(idOrName)
    const f = files(this.dir(record.id))
    const before = await this.runState(record.id)
    if (before.status === 'running' || before.status === 'restarting') return
    await this.prepare(record)
    await rm(f.stoppedByUser, { force: true })
    await rm(f.pidFile, { force: true })
    await writeJson(f.state, { ...before, status: 'created', error: undefined, monitorPid: undefined } satisfies ContainerRunState)
    this.monitor().write(`${this.dir(record.id)}\n`)
    // Started means: the process runs, or it already ran and exited; a runtime refusal is an error here.
    for (let i = 0; i < 1000; i++) {
      const state = await this.runState(record.id)
      if (state.error) {
        const service = record.spec.labels['com.docker.compose.service']
        throw new EngineError('runtime', `cannot start container ${record.name}${service ? ` (service ${service})` : ''}: ${state.error}`)
      }
      if (state.status === 'running' || state.status === 'restarting' || (state.status === 'exited' && state.finishedAt)) return
      await sleep(10)
    }
    throw new EngineError('runtime', `container ${record.name} did not start within 10 s`)
  }

  /**
   * Starts a container in the foreground of this process, its stdio joined to
   * `io` (`docker run -it`, `pier run`): no monitor, this process is the
   * container's monitor until it exits (no restart, no healthcheck, no log
   * file). With `tty`, the container gets a terminal: the caller's own when
   * its stdin is one (runc relays it), else one from script(1).
   */
  async startAttached(idOrName: string, io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
    const record = await this.require(idOrName)
    const f = files(this.dir(record.id))
    await this.prepare(record)
    await rm(f.pidFile, { force: true })
    let state: ContainerRunState = { status: 'running', restartCount: 0, startedAt: new Date().toISOString(), monitorPid: process.pid }
    await writeJson(f.state, state)
    const args = this.runtime.args('--log', f.runtimeLog, '--log-format', 'json', 'run', '--bundle', f.bundle, '--pid-file', f.pidFile, record.id)
    const tty = record.spec.tty
    const ownTerminal = tty && io.stdin === process.stdin && !!process.stdin.isTTY
    const [command, argv] = tty && !ownTerminal ? underTerminal(this.runtime.binary, args) : [this.runtime.binary, args]
    const child = spawn(command, argv, { stdio: ownTerminal ? 'inherit' : ['pipe', 'pipe', 'pipe'] })
    if (!ownTerminal) {
      io.stdin.pipe(child.stdin!)
      child.stdout!.pipe(io.stdout, { end: false })
      child.stderr!.pipe(io.stderr, { end: false })
    }
    // Without a terminal, Ctrl-C and SIGTERM go to the container, as docker run passes them.
    const forward = (signal: NodeJS.Signals) => void this.signal(record.id, signal).catch(() => undefined)
    if (!ownTerminal) {
      process.on('SIGINT', forward)
      process.on('SIGTERM', forward)
    }
    const code = await new Promise<number>((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 128 + 9 : 1))))
    process.off('SIGINT', forward)
    process.off('SIGTERM', forward)
    io.stdin.unpipe()
    const pid = existsSync(f.pidFile)
    state = { ...state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString(), monitorPid: undefined, ...(!pid && code !== 0 ? { error: 'the runtime could not start the process' } : {}) }
    await writeJson(f.state, state)
    return code
  }

  /** Mounts the root filesystem, fills new volumes from the image, writes /etc files and config.json. */
  private async prepare(record: ContainerRecord): Promise<void> {
    const f = files(this.dir(record.id))
    const spec = record.spec
    await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
    const image = await this.images.require(record.image)
    const config = (await this.images.config(image)).config ?? {}
    const user = await resolveUser(spec.user || config.User, record.layers)
    const env = new Map<string, string>()
    for (const e of config.Env ?? []) {
      const cut = e.indexOf('=')
      env.set(e.slice(0, cut), e.slice(cut + 1))
    }
    for (const [k, v] of Object.entries(spec.env)) env.set(k, v)
    if (!env.has('PATH')) env.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    const hostname = spec.hostname ?? record.id.slice(0, 12)
    env.set('HOSTNAME', hostname)
    if (!env.has('HOME')) env.set('HOME', user.home)

    const mounts: { source: string; target: string; options: string[]; type: 'bind' | 'tmpfs' }[] = []
    for (const m of spec.mounts) {
      if (m.type === 'volume') {
        const volume = await this.volumes.inspect(m.source)
        if (!volume) throw new EngineError('not-found', `container ${record.name}: no such volume: ${m.source}`)
        await this.fillVolume(volume.mountpoint, join(f.rootfs, m.target), m.nocopy)
        const source = m.subpath ? join(volume.mountpoint, m.subpath) : volume.mountpoint
        mounts.push({ type: 'bind', source, target: m.target, options: ['rbind', m.readOnly ? 'ro' : 'rw'] })
      } else if (m.type === 'bind') {
        if (!existsSync(m.source)) {
          if (!m.createHostPath) throw new EngineError('invalid', `container ${record.name}: the bind source ${m.source} does not exist (create it, or use the short syntax, which creates it)`)
          await mkdir(m.source, { recursive: true })
        }
        mounts.push({ type: 'bind', source: m.source, target: m.target, options: ['rbind', m.readOnly ? 'ro' : 'rw', m.propagation ?? 'rprivate'] })
      } else if (m.type === 'tmpfs') {
        mounts.push({ type: 'tmpfs', source: 'tmpfs', target: m.target, options: ['nosuid', 'nodev', ...(m.size ? [`size=${m.size}`] : []), `mode=${(m.mode ?? 0o1777).toString(8)}`] })
      } else if (m.type === 'file') {
        mounts.push({ type: 'bind', source: m.source, target: m.target, options: ['rbind', 'ro', 'rprivate'] })
      }
    }

    const net = await this.connect(record)
    const etc = net.etc ?? (await this.writeEtc(record, hostname, net.networking))
    const initPath = spec.init ? initBinary() : undefined
    const config_json = runtimeSpec({
      id: record.id,
      spec,
      user,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      workingDir: spec.workingDir || config.WorkingDir || '/',
      rootfs: f.rootfs,
      etc,
      mounts,
      hostLimits: await hostLimits(),
      initPath,
      ...(net.netnsPath ? { netnsPath: net.netnsPath } : {}),
    })
    await writeJson(f.config, config_json)
    if (net.networking) await this.refreshHosts()
  }

  /**
   * The container's network: on bridge networks, its own namespace with an
   * interface per network (recorded in network.json for the monitor, which
   * publishes ports to it, and for name resolution); with `container:X`,
   * X's namespace and X's /etc files; with host or none, nothing to build.
   */
  private async connect(record: ContainerRecord): Promise<{ netnsPath?: string; networking?: ContainerNetworking; etc?: EtcFiles }> {
    const spec = record.spec
    const mode = spec.networkMode
    if (mode.startsWith('container:')) {
      const target = await this.find(mode.slice('container:'.length))
      if (!target) throw new EngineError('not-found', `container ${record.name}: network_mode ${mode}: no such container`)
      const pid = (await this.runState(target.id)).pid
      if (!pid || !(await this.isRunning(target.id))) throw new EngineError('conflict', `container ${record.name}: network_mode ${mode}: container ${target.name} is not running; start it first`)
      const own = await readJson<ContainerNetworking>(files(this.dir(target.id)).network)
      const etcDir = files(this.dir(target.id)).etc
      return { netnsPath: own?.netnsPath ?? (target.spec.networkMode === 'host' ? '/proc/1/ns/net' : `/proc/${pid}/ns/net`), etc: etcFiles(etcDir) }
    }
    if (mode !== 'bridge' || spec.networks.length === 0) return {}
    const networking = await attach(this.networks, record.id, spec.networks)
    await writeJson(files(this.dir(record.id)).network, networking)
    return { netnsPath: networking.netnsPath, networking }
  }

  /** Writes the container's own /etc/hosts, /etc/hostname and /etc/resolv.conf, bind-mounted into it. */
  private async writeEtc(record: ContainerRecord, hostname: string, networking?: ContainerNetworking): Promise<EtcFiles> {
    const spec = record.spec
    const f = files(this.dir(record.id))
    await mkdir(f.etc, { recursive: true })
    const etc = etcFiles(f.etc)
    const hostNet = spec.networkMode === 'host'
    if (hostNet) {
      const extra = Object.entries(spec.extraHosts).flatMap(([h, ips]) => ips.map((ip) => `${ip}\t${h}\n`)).join('')
      await writeFile(etc.hosts, (await readFile('/etc/hosts', 'utf8').catch(() => '')) + extra)
    } else {
      const self = endpoint(record, networking)
      await writeFile(etc.hosts, hostsFile(self, networking ? [self] : []))
    }
    await writeFile(etc.hostname, `${hostNet ? (await readFile('/etc/hostname', 'utf8').catch(() => 'localhost\n')).trim() : hostname}\n`)
    await writeFile(etc.resolvConf, resolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''), spec.dns, spec.dnsSearch, spec.dnsOpt))
    if (!networking) return etc
    const imageHostConf = await readFile(join(f.rootfs, 'etc', 'host.conf'), 'utf8').catch(() => '')
    await writeFile(join(f.etc, 'host.conf'), hostConf(imageHostConf))
    return { ...etc, hostConf: join(f.etc, 'host.conf') }
  }

  private hostsRunning?: Promise<void>
  private hostsQueued?: Promise<void>

  /**
   * Rewrites the /etc/hosts of every networked container of this root, so
   * names follow containers as they come and go. Calls made while a rewrite
   * runs share the next one (one rewrite covers them all), and a root lock
   * orders rewrites of different pier processes; each reads the state anew.
   */
  refreshHosts(): Promise<void> {
    if (this.hostsQueued) return this.hostsQueued
    if (this.hostsRunning) {
      this.hostsQueued = this.hostsRunning
        .catch(() => undefined)
        .then(() => {
          this.hostsQueued = undefined
          return this.refreshHosts()
        })
      return this.hostsQueued
    }
    this.hostsRunning = this.root.withLock('hosts', () => this.writeAllHosts()).finally(() => {
      this.hostsRunning = undefined
    })
    return this.hostsRunning
  }

  private async writeAllHosts(): Promise<void> {
    const networked: { record: ContainerRecord; self: Endpoint }[] = []
    for (const record of await this.records()) {
      const networking = await readJson<ContainerNetworking>(files(this.dir(record.id)).network)
      if (networking) networked.push({ record, self: endpoint(record, networking) })
    }
    const all = networked.map((n) => n.self)
    await Promise.all(
      networked.map(async ({ record, self }) => {
        const path = etcFiles(files(this.dir(record.id)).etc).hosts
        const text = hostsFile(self, all)
        const current = await readFile(path, 'utf8').catch(() => undefined)
        if (current === undefined || current === text) return
        // In place, not by rename: the file is bind-mounted, and a mount keeps the inode it was given.
        // Opened without create: a container being removed meanwhile is not given its file back.
        const handle = await open(path, 'r+').catch(() => undefined)
        if (!handle) return
        try {
          await handle.write(text, 0)
          await handle.truncate(Buffer.byteLength(text))
        } finally {
          await handle.close()
        }
      }),
    )
  }

  /** A new, empty volume takes the image's content at its mount path (Docker's copy-up), unless nocopy. */
  private async fillVolume(volumeDir: string, imagePath: string, nocopy?: boolean): Promise<void> {
    if (nocopy || !existsSync(imagePath)) return
    if ((await readdir(volumeDir)).length > 0) return
    if ((await readdir(imagePath)).length === 0) return
    await exec('cp', ['-a', `${imagePath}/.`, volumeDir])
  }

  async stop(idOrName: string, options: { signal?: string; timeoutMs?: number } = {}): Promise<void> {
    const record = await this.require(idOrName)
    const f = files(this.dir(record.id))
    await writeFile(f.stoppedByUser, '')
    if (!(await this.isRunning(record.id))) {
      await this.waitMonitor(record.id, 2000)
      return
    }
    const timeout = options.timeoutMs ?? record.spec.stopGracePeriodMs
    await this.signal(record.id, options.signal ?? record.spec.stopSignal)
    if (!(await this.waitExited(record.id, timeout))) {
      await this.signal(record.id, 'KILL')
      await this.waitExited(record.id, 10_000)
    }
    await this.waitMonitor(record.id, 5000)
  }

  async kill(idOrName: string, signal = 'KILL'): Promise<void> {
    const record = await this.require(idOrName)
    if (!(await this.isRunning(record.id))) throw new EngineError('conflict', `container ${record.name} is not running`)
    await writeFile(files(this.dir(record.id)).stoppedByUser, '')
    await this.signal(record.id, signal)
  }

  /** Signals the container's init: straight to its pid when on record (no process to spawn), else through the runtime. */
  private async signal(id: string, signal: string): Promise<void> {
    const pid = (await this.runState(id)).pid
    if (pid && ownProcess(pid, id)) {
      try {
        process.kill(pid, /^\d+$/.test(signal) ? Number(signal) : (`SIG${signal.replace(/^SIG/, '')}` as NodeJS.Signals))
        return
      } catch {
        // an unknown name for Node, or gone meanwhile: the runtime decides
      }
    }
    await this.runtime.run('kill', id, signal.replace(/^SIG/, '')).catch((err) => {
      // Already gone between the check and the signal: nothing to do.
      if (!/not running|does not exist|container not running/i.test(err.message)) throw err
    })
  }

  async remove(idOrName: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const record = await this.require(idOrName)
    const dir = this.dir(record.id)
    if (await this.isRunning(record.id)) {
      if (!options.force) throw new EngineError('conflict', `container ${record.name} is running: stop it first, or remove it with force`)
      await writeFile(files(dir).stoppedByUser, '')
      await this.signal(record.id, 'KILL')
      await this.waitExited(record.id, 10_000)
    }
    await this.waitMonitor(record.id, 5000)
    // One call, whether or not the runtime still has state for it.
    await this.runtime.run('delete', '--force', record.id).catch(() => undefined)
    await unmountRootfs(files(dir).rootfs)
    const networked = existsSync(files(dir).network)
    await detach(this.networks, record.id)
    await rm(dir, { recursive: true, force: true })
    if (networked) await this.refreshHosts()
    if (options.volumes) for (const v of record.anonymousVolumes) await this.volumes.remove(v).catch(() => undefined)
  }

  async pause(idOrName: string): Promise<void> {
    const record = await this.require(idOrName)
    await this.runtime.run('pause', record.id)
  }

  async unpause(idOrName: string): Promise<void> {
    const record = await this.require(idOrName)
    await this.runtime.run('resume', record.id)
  }

  async wait(idOrName: string): Promise<number> {
    const record = await this.require(idOrName)
    for (;;) {
      const state = await this.runState(record.id)
      if ((state.status === 'exited' && state.finishedAt) || state.status === 'created') {
        if (!monitorAlive(state)) return state.exitCode ?? 0
      }
      await sleep(25)
    }
  }

  async *logs(idOrName: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const record = await this.require(idOrName)
    const f = files(this.dir(record.id))
    let offset = 0
    let first = true
    for (;;) {
      const text = await readFile(f.log, 'utf8').catch(() => '')
      const fresh = text.slice(offset)
      const complete = fresh.slice(0, fresh.lastIndexOf('\n') + 1)
      offset += complete.length
      let lines = complete.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: string; s: 'stdout' | 'stderr'; l: string })
      lines = lines.filter((l) => (!options.since || l.t >= options.since) && (!options.until || l.t <= options.until))
      if (first && options.tail !== undefined) lines = options.tail === 0 ? [] : lines.slice(-options.tail)
      first = false
      for (const l of lines) yield { stream: l.s, time: l.t, text: l.l }
      if (!options.follow) return
      const state = await this.runState(record.id)
      if (state.status === 'exited' && !monitorAlive(state)) {
        if ((await readFile(f.log, 'utf8').catch(() => '')).length === offset) return
        continue
      }
      await sleep(100)
    }
  }

  /**
   * Runs a process in the container. Without `stdio`, its output is
   * collected and returned. With `stdio`, it streams; with `tty` too, it gets
   * a terminal: the caller's own when stdin is that terminal (runc relays it),
   * else one made by script(1), as the monitor does for `tty: true`.
   */
  async exec(idOrName: string, spec: ExecSpec): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const record = await this.require(idOrName)
    if (!(await this.isRunning(record.id))) throw new EngineError('conflict', `container ${record.name} is not running`)
    const user = await resolveUser(spec.user ?? record.spec.user, record.layers)
    const args = ['exec', '--user', `${user.uid}:${user.gid}`]
    if (spec.tty) args.push('--tty')
    if (spec.detach) args.push('--detach')
    for (const g of user.additionalGids) args.push('--additional-gids', String(g))
    for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`)
    if (spec.workingDir) args.push('--cwd', spec.workingDir)
    if (spec.privileged) for (const cap of allCapabilities()) args.push('--cap', cap)
    const argv = this.runtime.args(...args, record.id, ...spec.argv)
    const io = spec.stdio
    if (spec.detach) {
      await this.runtime.run(...args, record.id, ...spec.argv)
      return { exitCode: 0, stdout: '', stderr: '' }
    }
    if (!io) {
      const child = spawn(this.runtime.binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c: Buffer) => (stdout += c))
      child.stderr.on('data', (c: Buffer) => (stderr += c))
      const exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
      return { exitCode, stdout, stderr }
    }
    const ownTerminal = !!spec.tty && io.stdin === process.stdin && !!process.stdin.isTTY
    const [command, commandArgs] = spec.tty && !ownTerminal ? underTerminal(this.runtime.binary, argv) : [this.runtime.binary, argv]
    const child = spawn(command, commandArgs, { stdio: ownTerminal ? 'inherit' : [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    if (!ownTerminal) {
      if (io.stdin && child.stdin) io.stdin.pipe(child.stdin)
      child.stdout!.pipe(io.stdout, { end: false })
      child.stderr!.pipe(io.stderr, { end: false })
    }
    const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)))
    if (io.stdin && io.stdin !== process.stdin) io.stdin.unpipe()
    return { exitCode, stdout: '', stderr: '' }
  }

  /** The container's processes, as `docker top` lists them. */
  async top(idOrName: string): Promise<ProcessList> {
    const record = await this.require(idOrName)
    if (!(await this.isRunning(record.id))) throw new EngineError('conflict', `container ${record.name} is not running`)
    const pids = JSON.parse((await this.runtime.run('ps', '--format', 'json', record.id)).stdout) as number[]
    const processes: string[][] = []
    for (const pid of pids) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
      const field = (name: string) => status.split('\n').find((l) => l.startsWith(`${name}:`))?.split(/\s+/)[1] ?? ''
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ')
      processes.push([field('Uid'), String(pid), field('PPid'), cmdline])
    }
    return { titles: ['UID', 'PID', 'PPID', 'CMD'], processes }
  }

  /** A tar stream of a path in the container's filesystem. */
  async copyFrom(idOrName: string, path: string): Promise<Readable> {
    const record = await this.require(idOrName)
    const f = files(this.dir(record.id))
    await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
    return copyFrom(f.rootfs, path, undefined, await hostMounts(record.spec.mounts, async (n) => (await this.volumes.inspect(n))?.mountpoint))
  }

  /** Unpacks a tar stream into a directory of the container's filesystem. */
  async copyTo(idOrName: string, dir: string, archive: Readable): Promise<void> {
    const record = await this.require(idOrName)
    const f = files(this.dir(record.id))
    await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
    await copyTo(f.rootfs, dir, archive, await hostMounts(record.spec.mounts, async (n) => (await this.volumes.inspect(n))?.mountpoint))
  }

  async list(labels: Labels = {}, options: { all?: boolean } = {}): Promise<Container[]> {
    const records = (await this.records()).filter((r) => Object.entries(labels).every(([k, v]) => r.spec.labels[k] === v))
    if (records.length === 0) return []
    // One runtime call for the whole listing, not one per container.
    const statuses = await this.runtime.list()
    const out: Container[] = []
    for (const record of records) {
      const container = await this.describe(record, statuses.get(record.id) ?? 'unknown')
      if (options.all || container.state === 'running' || container.state === 'paused' || container.state === 'restarting') out.push(container)
    }
    return out
  }

  async inspect(idOrName: string): Promise<Container | undefined> {
    const record = await this.find(idOrName)
    return record ? this.describe(record) : undefined
  }

  /** A container as the engine reports it; `runtimeStatus` when the caller already asked the runtime. */
  private async describe(record: ContainerRecord, runtimeStatus?: string): Promise<Container> {
    const state = await this.runState(record.id)
    const networking = await readJson<ContainerNetworking>(files(this.dir(record.id)).network)
    let status: Container['state'] = state.status
    if (status === 'running') {
      const rt = runtimeStatus ?? (await this.runtime.state(record.id))?.status ?? 'unknown'
      if (rt === 'unknown' || rt === 'stopped') status = 'exited'
      else if (rt === 'paused') status = 'paused'
    }
    return {
      id: record.id,
      name: record.name,
      image: record.image,
      labels: record.spec.labels,
      mounts: record.spec.mounts.map((m) => ({
        type: m.type,
        source: m.type === 'tmpfs' ? '' : m.source,
        target: m.target,
        readOnly: m.type === 'file' || (m.type !== 'tmpfs' && m.readOnly),
        ...(m.type === 'volume' && record.anonymousVolumes.includes(m.source) ? { anonymous: true } : {}),
      })),
      state: status,
      ...(state.health ? { health: state.health } : {}),
      ...(state.exitCode !== undefined ? { exitCode: state.exitCode } : {}),
      createdAt: record.createdAt,
      ...(state.startedAt ? { startedAt: state.startedAt } : {}),
      ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}),
      ports: status === 'running' || status === 'paused' || status === 'restarting' ? (state.ports ?? []) : [],
      exposedPorts: record.spec.expose ?? [],
      addresses: Object.fromEntries((networking?.interfaces ?? []).map((i) => [i.network, i.address])),
      command: record.spec.argv,
    }
  }

  /**
   * Whether the container's process runs. Its pid (from the monitor's state)
   * is checked in /proc — alive, and in the container's own cgroup, so a
   * reused pid is not taken for it — which costs a file read where asking
   * the runtime costs a process (that, over 30 containers stopping, was most
   * of `down`). Without a pid on record, the runtime is asked.
   */
  private async isRunning(id: string): Promise<boolean> {
    const pid = (await this.runState(id)).pid
    if (pid) return ownProcess(pid, id)
    const rt = await this.runtime.state(id)
    return !!rt && rt.status !== 'stopped'
  }

  /**
   * Waits for the container's process to end. It watches the process itself
   * (a signal 0 and its /proc state, free) rather than asking the runtime
   * every few milliseconds, which costs a process each time and, with many
   * containers stopping at once, the CPU the stops need.
   */
  private async waitExited(id: string, timeoutMs: number): Promise<boolean> {
    const pid = (await this.runState(id)).pid
    const deadline = Date.now() + timeoutMs
    if (pid) {
      while (Date.now() < deadline && processLives(pid)) await sleep(10)
      if (!processLives(pid)) return true
    }
    while (Date.now() < deadline) {
      if (!(await this.isRunning(id))) return true
      await sleep(20)
    }
    return !(await this.isRunning(id))
  }

  /**
   * Waits for the monitor to be done with a container: its last write
   * clears monitorPid (the monitor itself may go on serving others).
   */
  private async waitMonitor(id: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (monitorAlive(await this.runState(id)) && Date.now() < deadline) await sleep(10)
  }

  private async runState(id: string): Promise<ContainerRunState> {
    return (await readJson<ContainerRunState>(files(this.dir(id)).state)) ?? { status: 'created', restartCount: 0 }
  }

  /**
   * Every container with a record. A directory without one is a create that
   * was interrupted (record.json is written last): once it is a minute old,
   * so not a create running now, it is cleared away.
   */
  private async records(): Promise<ContainerRecord[]> {
    const ids = await readdir(this.root.path('containers')).catch(() => [] as string[])
    const records = await Promise.all(ids.map((id) => readJson<ContainerRecord>(files(this.dir(id)).record)))
    for (const [i, record] of records.entries()) {
      if (record) continue
      const dir = this.dir(ids[i])
      const age = Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now())
      if (age > 60_000) {
        await unmountRootfs(files(dir).rootfs).catch(() => undefined)
        await rm(dir, { recursive: true, force: true })
      }
    }
    return records.filter((r): r is ContainerRecord => !!r)
  }

  private async find(idOrName: string): Promise<ContainerRecord | undefined> {
    const records = await this.records()
    return records.find((r) => r.name === idOrName || r.id === idOrName) ?? (idOrName.length >= 4 ? records.filter((r) => r.id.startsWith(idOrName)).at(0) : undefined)
  }

  private async require(idOrName: string): Promise<ContainerRecord> {
    const record = await this.find(idOrName)
    if (!record) throw new EngineError('not-found', `no such container: ${idOrName}`)
    return record
  }
}

/**
 * `init: true` runs tini as PID 1 (as Docker runs its docker-init, which is
 * tini): it forwards signals to the command and reaps zombies. The static
 * build is mounted into the container, so the image needs nothing.
 */
function initBinary(): string {
  const path = process.env.PIER_INIT || '/usr/bin/tini-static'
  if (!existsSync(path)) throw new EngineError('runtime', `init: true needs tini's static binary at ${path}: apt-get install tini (or set PIER_INIT)`)
  return path
}

interface EtcFiles {
  hosts: string
  hostname: string
  resolvConf: string
  hostConf?: string
}

function etcFiles(dir: string): EtcFiles {
  const hostConf = join(dir, 'host.conf')
  return { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf'), ...(existsSync(hostConf) ? { hostConf } : {}) }
}

/** A container as name resolution sees it. */
function endpoint(record: ContainerRecord, networking?: ContainerNetworking): Endpoint {
  const spec = record.spec
  return {
    id: record.id,
    name: record.name,
    hostname: spec.hostname ?? record.id.slice(0, 12),
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    interfaces: (networking?.interfaces ?? []).map((i) => ({ network: i.network, address: i.address, aliases: i.aliases })),
    links: (spec.links ?? []).map((l) => {
      const [container, alias] = l.split(':')
      return { container, alias: alias ?? container }
    }),
    extraHosts: spec.extraHosts,
  }
}

/**
 * Whether a monitor still serves this container: it has not written its last
 * state (which clears monitorPid), and it lives. A zombie does not count: a
 * monitor whose pier has exited is reaped by the host's init, which may take
 * a second or two on some hosts.
 */
function monitorAlive(state: ContainerRunState): boolean {
  return state.monitorPid !== undefined && processLives(state.monitorPid)
}

/** Whether `pid` is a live process of container `id` (its cgroup path names the container). */
function ownProcess(pid: number, id: string): boolean {
  if (!processLives(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/pier/${id}`)
  } catch {
    return false
  }
}

/** Whether a process runs (not gone, not a zombie waiting to be reaped). */
function processLives(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}


function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

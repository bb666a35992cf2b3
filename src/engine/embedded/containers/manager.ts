import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { distPath } from '../../../paths.js'
import type { Container, ContainerSpec, ExecSpec, Labels, LogLine, LogOptions, Mount, ProcessList } from '../../engine.js'
import { EngineError } from '../../errors.js'
import type { ImageStore } from '../images/store.js'
import type { Root } from '../root.js'
import type { VolumeStore } from '../volumes.js'
import { detach } from '../../../network/attach.js'
import type { NetworkStore } from '../../../network/networks.js'
import { copyFrom, copyTo, hostMounts } from './copy.js'
import { Hosts } from './hosts.js'
import { isRunning, monitorAlive, monitorLost, ownProcess, runState, settledState, sleep, untilState, waitExited, waitMonitor } from './liveness.js'
import { readLogs } from './logs.js'
import { describe } from './describe.js'
import { execIn, processList } from './exec.js'
import { mountsFrom, prepare, type PrepareContext } from './prepare.js'
import { RecordStore } from './records.js'
import { mountRootfs, unmountRootfs } from './rootfs.js'
import { Runtime } from './runtime.js'
import { files, writeJson, type ContainerRecord, type ContainerRunState } from './state.js'
import { runWithStdio, type Stdio } from './stdio.js'

// A file of its own, not part of the CLI bundle: it runs as its own process.
const monitorScript = distPath('src', 'engine', 'embedded', 'containers', 'monitor.js')

/**
 * The container half of the embedded engine: the lifecycle. A container is
 * a directory (containers/<id>/) holding what pier decided (record.json,
 * written once; records.ts), what happened (state.json, written by its
 * monitor), its log, and its runtime bundle (prepare.ts); the truth about
 * running processes comes from /proc and the OCI runtime (liveness.ts).
 */
export class ContainerManager {
  private runtimeCache?: Runtime
  private monitorProcess?: ChildProcess
  readonly records: RecordStore
  private readonly hosts: Hosts

  constructor(
    private readonly root: Root,
    private readonly images: ImageStore,
    private readonly volumes: VolumeStore,
    private readonly networks: NetworkStore,
  ) {
    this.records = new RecordStore(root)
    this.hosts = new Hosts(root, this.records)
  }

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
    return this.records.dir(id)
  }

  private get context(): PrepareContext {
    return { records: this.records, volumes: this.volumes, networks: this.networks, hosts: this.hosts, runtime: this.runtime }
  }

  private running(id: string): Promise<boolean> {
    return isRunning(this.runtime, this.dir(id), id)
  }

  async create(spec: ContainerSpec): Promise<Container> {
    const image = await this.images.require(spec.image)
    const id = randomBytes(32).toString('hex')
    const dir = this.dir(id)
    await this.records.add(spec.name, dir, async () => {
      // Donors first: a missing one fails the create before any volume is made for it.
      const borrowed = await mountsFrom(this.records, spec)
      const anonymousVolumes: string[] = []
      const mounts: Mount[] = []
      for (const m of spec.mounts) {
        if (m.type === 'volume' && m.source === '') {
          const v = await this.volumes.createAnonymous()
          anonymousVolumes.push(v.name)
          mounts.push({ ...m, source: v.name })
        } else {
          // An anonymous volume passed on by the container this one replaces is its own now (removed with it).
          if (m.type === 'volume' && (await this.volumes.inspect(m.source))?.labels['com.docker.volume.anonymous'] !== undefined) anonymousVolumes.push(m.source)
          mounts.push(m)
        }
      }
      for (const m of borrowed) if (!mounts.some((own) => own.target === m.target)) mounts.push(m)
      await writeJson(files(dir).state, { status: 'created', restartCount: 0 } satisfies ContainerRunState)
      return { id, name: spec.name, image: image.id, layers: image.layers.map((l) => this.images.layers.dir(l.diffId)), spec: { ...spec, mounts, image: image.id }, createdAt: new Date().toISOString(), anonymousVolumes }
    })
    return (await this.inspect(id))!
  }

  async start(idOrName: string): Promise<void> {
    const record = await this.records.require(idOrName)
    const f = files(this.dir(record.id))
    let before = await settledState(this.dir(record.id))
    if (monitorLost(before)) before = await this.orphaned(record, before)
    if (before.status === 'running' || before.status === 'restarting') return
    // The monitor, a Node process, takes 100-200 ms to be ready: it boots while the bundle is prepared.
    this.monitor()
    await this.lifecycle(record, async () => {
      await prepare(this.context, record)
      rmSync(f.stoppedByUser, { force: true })
      rmSync(f.pidFile, { force: true })
      // A start by the user begins the restart count anew (on-failure:N counts from here), as Docker's does.
      const fresh: ContainerRunState = { ...before, status: 'created', error: undefined, monitorPid: undefined, restartCount: 0 }
      // A first start finds the state create wrote, which says just that: a new file is not written for nothing.
      if (JSON.stringify(fresh) !== JSON.stringify(before)) await writeJson(f.state, fresh)
      this.monitor().write(`${this.dir(record.id)}\n`)
    })
    // Started means: the process runs, or it already ran and exited; a runtime refusal is an error here.
    const state = await untilState(this.dir(record.id), (s) => !!s.error || s.status === 'running' || s.status === 'restarting' || (s.status === 'exited' && !!s.finishedAt), 10_000)
    if (!state) throw new EngineError('runtime', `container ${record.name} did not start within 10 s`)
    if (state.error) {
      const service = record.spec.labels['com.docker.compose.service']
      throw new EngineError('runtime', `cannot start container ${record.name}${service ? ` (service ${service})` : ''}: ${state.error}`)
    }
  }

  /**
   * A container whose monitor was killed: nothing records its exit, keeps its
   * log, runs its healthcheck or restarts it any more, and its state.json
   * stays as the monitor left it. Its process, if it still runs, is ended,
   * and the state says so, so that a start runs it anew under a monitor
   * (Docker's daemon, restarted, restarts its containers the same way).
   */
  private async orphaned(record: ContainerRecord, state: ContainerRunState): Promise<ContainerRunState> {
    const dir = this.dir(record.id)
    if (await this.running(record.id)) {
      await this.signal(record.id, 'KILL')
      await waitExited(this.runtime, dir, record.id, 10_000)
    }
    await this.runtime.run('delete', '--force', record.id).catch(() => undefined)
    const after: ContainerRunState = { ...state, status: 'exited', pid: undefined, health: undefined, failingStreak: undefined, ports: undefined, monitorPid: undefined, finishedAt: new Date().toISOString(), error: 'its monitor was killed: the exit code is unknown' }
    await writeJson(files(dir).state, after)
    return after
  }

  /**
   * Starts a container in the foreground of this process, its stdio joined to
   * `io` (`docker run -it`, `pier run`): no monitor, this process is the
   * container's monitor until it exits (no restart, no healthcheck, no log
   * file). With `tty`, the container gets a terminal: the caller's own when
   * its stdin is one (runc relays it), else one from script(1).
   */
  async startAttached(idOrName: string, io: Required<Stdio>): Promise<number> {
    const record = await this.records.require(idOrName)
    const f = files(this.dir(record.id))
    await this.lifecycle(record, () => prepare(this.context, record))
    await rm(f.pidFile, { force: true })
    let state: ContainerRunState = { status: 'running', restartCount: 0, startedAt: new Date().toISOString(), monitorPid: process.pid }
    await writeJson(f.state, state)
    const args = this.runtime.args('--log', f.runtimeLog, '--log-format', 'json', 'run', '--bundle', f.bundle, '--pid-file', f.pidFile, record.id)
    // Without a terminal, Ctrl-C and SIGTERM go to the container, as docker run passes them.
    const forward = (signal: NodeJS.Signals) => void this.signal(record.id, signal).catch(() => undefined)
    const code = await runWithStdio(this.runtime.binary, args, record.spec.tty, io, {
      onSpawn: (_child, ownTerminal) => {
        if (ownTerminal) return
        process.on('SIGINT', forward)
        process.on('SIGTERM', forward)
      },
    })
    process.off('SIGINT', forward)
    process.off('SIGTERM', forward)
    const pid = existsSync(f.pidFile)
    state = { ...state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString(), monitorPid: undefined, ...(!pid && code !== 0 ? { error: 'the runtime could not start the process' } : {}) }
    await writeJson(f.state, state)
    return code
  }

  async stop(idOrName: string, options: { signal?: string; timeoutMs?: number } = {}): Promise<void> {
    const record = await this.records.require(idOrName)
    const f = files(this.dir(record.id))
    await writeFile(f.stoppedByUser, '')
    if (!(await this.running(record.id))) {
      await waitMonitor(this.dir(record.id), 2000)
      return
    }
    const timeout = options.timeoutMs ?? record.spec.stopGracePeriodMs
    await this.signal(record.id, options.signal ?? record.spec.stopSignal)
    if (!(await waitExited(this.runtime, this.dir(record.id), record.id, timeout))) {
      await this.signal(record.id, 'KILL')
      await waitExited(this.runtime, this.dir(record.id), record.id, 10_000)
    }
    await waitMonitor(this.dir(record.id), 5000)
    const after = await settledState(this.dir(record.id))
    if (monitorLost(after)) await this.orphaned(record, after)
  }

  async kill(idOrName: string, signal = 'KILL'): Promise<void> {
    const record = await this.records.require(idOrName)
    if (!(await this.running(record.id))) throw new EngineError('conflict', `container ${record.name} is not running`)
    await writeFile(files(this.dir(record.id)).stoppedByUser, '')
    await this.signal(record.id, signal)
  }

  /** Signals the container's init: straight to its pid when on record (no process to spawn), else through the runtime. */
  private async signal(id: string, signal: string): Promise<void> {
    const pid = (await runState(this.dir(id))).pid
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

  /**
   * Runs a start's preparation, or a removal, holding this container's
   * lifecycle lock, so the two never interleave: a removal that ran while a
   * start was attaching the container to its networks left the namespace and
   * veth it made with no record to find them by (an `up` racing a `down`). A
   * start that finds its container removed meanwhile stops there.
   */
  private lifecycle<T>(record: ContainerRecord, fn: () => Promise<T>): Promise<T> {
    return this.root.withLock(`lifecycle-${record.id}`, async () => {
      if (!existsSync(files(this.dir(record.id)).record)) throw new EngineError('not-found', `no such container: ${record.name} (it was removed meanwhile)`)
      return fn()
    })
  }

  async remove(idOrName: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const record = await this.records.require(idOrName)
    const dir = this.dir(record.id)
    let networked = false
    await this.lifecycle(record, async () => {
      if (await this.running(record.id)) {
        if (!options.force) throw new EngineError('conflict', `container ${record.name} is running: stop it first, or remove it with force`)
        await writeFile(files(dir).stoppedByUser, '')
        await this.signal(record.id, 'KILL')
        await waitExited(this.runtime, this.dir(record.id), record.id, 10_000)
      }
      await waitMonitor(this.dir(record.id), 5000)
      // A `runc run` that returned removed its own state (and cgroups): a delete is needed only when
      // state is left (a killed monitor, a container never started by the monitor), and it cost a runc process per container of a `down`.
      if (existsSync(join(this.runtime.stateDir, record.id))) await this.runtime.run('delete', '--force', record.id).catch(() => undefined)
      await unmountRootfs(files(dir).rootfs)
      await unmountRootfs(files(dir).shm)
      networked = existsSync(files(dir).network)
      await detach(this.networks, record.id)
      await this.records.delete(record)
    })
    if (networked) await this.hosts.refresh()
    if (!options.volumes || record.anonymousVolumes.length === 0) return
    // An anonymous volume passed on to the container that replaced this one (or mounted through volumes_from) is kept.
    await this.root.withLock('containers', async () => {
      for (const v of record.anonymousVolumes) if ((await this.volumeUsers(v)).length === 0) await this.volumes.remove(v).catch(() => undefined)
    })
  }

  async pause(idOrName: string): Promise<void> {
    const record = await this.records.require(idOrName)
    await this.runtime.run('pause', record.id)
  }

  async unpause(idOrName: string): Promise<void> {
    const record = await this.records.require(idOrName)
    await this.runtime.run('resume', record.id)
  }

  async wait(idOrName: string): Promise<number> {
    const record = await this.records.require(idOrName)
    for (;;) {
      const state = await settledState(this.dir(record.id))
      if ((state.status === 'exited' && state.finishedAt) || state.status === 'created') {
        if (!monitorAlive(state)) return state.exitCode ?? 0
      }
      // No monitor will record this one's end: it ends when its process does, its code unknown (255, as Docker's for a lost container).
      if (monitorLost(state) && !(await this.running(record.id))) return 255
      await sleep(25)
    }
  }

  logs(idOrName: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const records = this.records
    const dir = (id: string) => this.dir(id)
    return (async function* () {
      const record = await records.require(idOrName)
      yield* readLogs(dir(record.id), options)
    })()
  }

  /**
   * Runs a process in the container. Without `stdio`, its output is
   * collected and returned. With `stdio`, it streams; with `tty` too, it gets
   * a terminal: the caller's own when stdin is that terminal (runc relays it),
   * else one made by script(1), as the monitor does for `tty: true`.
   */
  async exec(idOrName: string, spec: ExecSpec): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const record = await this.records.require(idOrName)
    if (!(await this.running(record.id))) throw new EngineError('conflict', `container ${record.name} is not running`)
    return execIn(this.runtime, files(this.dir(record.id)).rootfs, record, spec)
  }

  /** The container's processes, as `docker top` lists them. */
  async top(idOrName: string): Promise<ProcessList> {
    const record = await this.records.require(idOrName)
    if (!(await this.running(record.id))) throw new EngineError('conflict', `container ${record.name} is not running`)
    return processList(this.runtime, record.id)
  }

  /** A tar stream of a path in the container's filesystem. */
  async copyFrom(idOrName: string, path: string): Promise<Readable> {
    const record = await this.records.require(idOrName)
    const f = files(this.dir(record.id))
    await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
    return copyFrom(f.rootfs, path, undefined, await hostMounts(record.spec.mounts, async (n) => (await this.volumes.inspect(n))?.mountpoint))
  }

  /** Unpacks a tar stream into a directory of the container's filesystem. */
  async copyTo(idOrName: string, dir: string, archive: Readable): Promise<void> {
    const record = await this.records.require(idOrName)
    const f = files(this.dir(record.id))
    await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
    await copyTo(f.rootfs, dir, archive, await hostMounts(record.spec.mounts, async (n) => (await this.volumes.inspect(n))?.mountpoint))
  }

  async list(labels: Labels = {}, options: { all?: boolean } = {}): Promise<Container[]> {
    const records = (await this.records.all()).filter((r) => Object.entries(labels).every(([k, v]) => r.spec.labels[k] === v))
    if (records.length === 0) return []
    // At most one runtime call for the whole listing, not one per container, and none when /proc tells.
    let statuses: Promise<Map<string, string>> | undefined
    const out: Container[] = []
    for (const record of records) {
      const status = async () => (await (statuses ??= this.runtime.list())).get(record.id)
      const container = await describe(this.runtime, this.dir(record.id), record, status)
      if (options.all || container.state === 'running' || container.state === 'paused' || container.state === 'restarting') out.push(container)
    }
    return out
  }

  async inspect(idOrName: string): Promise<Container | undefined> {
    const record = await this.records.find(idOrName)
    return record ? describe(this.runtime, this.dir(record.id), record) : undefined
  }

  /** Names of the containers (any project) whose mounts use volume `name`. */
  async volumeUsers(name: string): Promise<string[]> {
    return (await this.records.all()).filter((r) => r.spec.mounts.some((m) => m.type === 'volume' && m.source === name)).map((r) => r.name)
  }
}

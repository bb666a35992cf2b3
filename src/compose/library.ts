import { randomBytes } from 'node:crypto'
import type { Container, Engine, EngineEvent } from '../engine/engine.js'
import { openEngine, type EngineName } from '../engine/index.js'
import { UsageError } from '../errors.js'
import { LABEL } from '../labels.js'
import { loadProject, type LoadOptions } from '../spec/load.js'
import type { Project } from '../spec/project.js'
import { containersOf, start as startContainers, stop as stopContainers } from './containers.js'
import type { Context, Reporter } from './context.js'
import { down, type DownOptions } from './down.js'
import { exec, type ExecOptions } from './exec.js'
import { logs, type LogEntry, type LogsOptions } from './logs.js'
import { ps, type PsOptions } from './ps.js'
import { register, release } from './reaper.js'
import { up as upVerb, type UpOptions, type UpResult } from './up.js'
import { defaultStrategy, waitUntilReady, type WaitStrategy } from './waits.js'

/**
 * pier as a library, with the lifecycle in the types: `load()` gives a
 * project that can only be brought up; `up()` gives a StartedProject, the
 * only object with `down()`, `stop()`, `ps()`, `logs()`, `exec()` and the
 * published ports — and `await using` takes it down when the block ends.
 * Nothing is printed unless a reporter is given.
 */

export interface ProjectSource {
  /** Compose files (`-f`); default: discovered from `cwd`, as the CLI does. */
  file?: string | string[]
  /** The compose file's text instead of a file (paths in it resolve against `cwd`). */
  content?: string
  projectName?: string
  projectDirectory?: string
  envFiles?: string[]
  profiles?: string[]
  /** Where discovery starts and relative paths resolve (default: the process's). */
  cwd?: string
  /** Variables for interpolation (default: the process environment). */
  environment?: Record<string, string | undefined>
}

export interface EngineChoice {
  /** An open engine, or a driver's name (default embedded). */
  engine?: Engine | EngineName
  /** The embedded engine's state directory (default PIER_ROOT, else /var/lib/pier). */
  root?: string
  reporter?: Reporter
  signal?: AbortSignal
}

/** Loads a project from files or from text, quietly (warnings go to the reporter). */
export async function load(options: ProjectSource & EngineChoice = {}): Promise<LoadedProject> {
  if (options.file !== undefined && options.content !== undefined) throw new UsageError('give either file or content, not both')
  const loadOptions: LoadOptions = {
    ...(options.file !== undefined ? { files: Array.isArray(options.file) ? options.file : [options.file] } : {}),
    ...(options.content !== undefined ? { files: ['-'], stdin: async () => options.content! } : {}),
    ...(options.projectName ? { projectName: options.projectName } : {}),
    ...(options.projectDirectory ? { projectDirectory: options.projectDirectory } : {}),
    ...(options.envFiles ? { envFiles: options.envFiles } : {}),
    ...(options.profiles ? { profiles: options.profiles } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.environment ? { environment: options.environment } : {}),
    onWarning: (text) => options.reporter?.message?.(text, 'warning'),
  }
  const project = await loadProject(loadOptions)
  const owned = typeof options.engine !== 'object'
  const engine = typeof options.engine === 'object' ? options.engine : await openEngine(options.engine ?? 'embedded', options.root ? { root: options.root } : {})
  return new LoadedProject(project, { engine, ...(options.reporter ? { reporter: options.reporter } : {}), ...(options.signal ? { signal: options.signal } : {}) }, owned)
}

export interface EnvironmentOptions {
  /**
   * Per service, how to know it is ready (`wait.forHttp(…)`, `wait.forLog(…)` …).
   * With `wait`, a service not named here waits for its healthcheck, or to run.
   */
  waitFor?: Record<string, WaitStrategy>
  /** Remove everything this environment made if the test process dies before `down()` (default true). */
  reaper?: boolean
}

/**
 * A test environment: loads the project, brings it up under a random
 * project name (unless `projectName` is given) so parallel runs never
 * collide, waits for each service as asked, and registers it with the
 * reaper. If it cannot get ready, it is taken down and the error (a
 * WaitError with the service's state and last output) is thrown.
 *
 *   await using env = await up({ file: 'compose.yaml', wait: true })
 *   const url = env.service('web').url(8080)
 */
export async function up(options: ProjectSource & EngineChoice & UpOptions & EnvironmentOptions = {}): Promise<StartedProject> {
  const loaded = await load({ ...options, projectName: options.projectName ?? `pier-${randomBytes(5).toString('hex')}` })
  const ctx = loaded.context
  if (options.reaper !== false) {
    const info = await ctx.engine.info()
    register({ project: loaded.name, engine: info.name, root: info.root })
  }
  try {
    const { waitFor, reaper: _reaper, ...upOptions } = options
    const started = await loaded.up({ ...upOptions, wait: false })
    if (options.wait || waitFor) await started.ready(waitFor ?? {}, options.wait ?? false, options.waitTimeoutMs ?? 120_000)
    return started
  } catch (err) {
    await down(ctx, loaded.project, { volumes: true, removeOrphans: true }).catch(() => undefined)
    release(loaded.name)
    await loaded.close()
    throw err
  }
}

/** A loaded project: it can be brought up, or its leftovers taken down. */
export class LoadedProject {
  constructor(
    readonly project: Project,
    protected readonly ctx: Context,
    private readonly ownsEngine: boolean,
  ) {}

  get name(): string {
    return this.project.name
  }

  /** The engine, reporter and signal the verbs run with. */
  get context(): Context {
    return this.ctx
  }

  async up(options: UpOptions = {}): Promise<StartedProject> {
    const result = await upVerb(this.ctx, this.project, options)
    const started = new StartedProject(this.project, this.ctx, this.ownsEngine, result)
    await started.refresh()
    return started
  }

  /** Releases the engine, if this object opened it. */
  async close(): Promise<void> {
    if (this.ownsEngine) await this.ctx.engine.close()
  }
}

/** A project that `up()` started: the only object that can stop it or take it down. */
export class StartedProject {
  private gone = false
  /** The containers as of the last up, start or refresh: ports and addresses are read from here. */
  private snapshot: Container[] = []

  constructor(
    readonly project: Project,
    private readonly ctx: Context,
    private readonly ownsEngine: boolean,
    readonly result: UpResult,
  ) {}

  get name(): string {
    return this.project.name
  }

  private live(): Context {
    if (this.gone) throw new UsageError(`project ${this.project.name} was taken down`)
    return this.ctx
  }

  ps(services: string[] = [], options: PsOptions = {}): Promise<Container[]> {
    return ps(this.live(), this.project, services, options)
  }

  /** Reads the containers again (ports may change when a container is recreated). */
  async refresh(): Promise<void> {
    this.snapshot = await containersOf(this.live(), this.project, [], { oneOffs: false })
  }

  /** One service of the environment: its ports, URL, output and commands. */
  service(name: string): ServiceHandle {
    if (!this.project.services[name]) throw new UsageError(`no such service: ${name} (the project has ${Object.keys(this.project.services).sort().join(', ')})`)
    return new ServiceHandle(this, name)
  }

  /** Replica `index` of a service, as of the last refresh. */
  container(service: string, index = 1): Container {
    const c = this.snapshot.find((x) => x.labels[LABEL.service] === service && x.labels[LABEL.number] === String(index))
    if (!c) throw new UsageError(`service "${service}" has no container${index > 1 ? ` with index ${index}` : ''} in project ${this.project.name}`)
    return c
  }

  /**
   * Waits until every started service is ready: by its strategy in
   * `strategies`, else (with `all`) its healthcheck, or running; one-shots
   * that already exited 0 count as ready. Throws a WaitError.
   */
  async ready(strategies: Record<string, WaitStrategy>, all: boolean, timeoutMs: number): Promise<void> {
    for (const name of Object.keys(strategies)) if (!this.project.services[name]) throw new UsageError(`waitFor names no service of the project: ${name}`)
    const targets = this.snapshot.filter((c) => this.result.services.includes(c.labels[LABEL.service]) && c.state !== 'created')
    await Promise.all(
      targets.map((c) => {
        const service = c.labels[LABEL.service]
        const strategy = strategies[service] ?? (all ? (c.state === 'exited' ? { kind: 'completed' as const } : defaultStrategy(c, !!this.project.services[service].healthcheck && !this.project.services[service].healthcheck?.disable)) : undefined)
        return strategy ? waitUntilReady(this.live(), service, c, strategy, timeoutMs) : undefined
      }),
    )
    await this.refresh()
  }

  /** The project's container events as they happen, until the signal (or the loop) ends. */
  async *events(): AsyncIterable<EngineEvent> {
    yield* this.live().engine.events({ [LABEL.project]: this.project.name })
  }

  async start(services: string[] = []): Promise<void> {
    await startContainers(this.live(), this.project, services)
    await this.refresh()
  }

  /** What the services' containers wrote, merged in time order. */
  async logs(services: string[] = [], options: Omit<LogsOptions, 'follow'> = {}): Promise<LogEntry[]> {
    const out: LogEntry[] = []
    await logs(this.live(), this.project, services, options, (e) => out.push(e))
    return out
  }

  /**
   * The services' output as it comes: what they wrote so far, then new
   * lines, until `signal` aborts (or every container has stopped).
   */
  async *followLogs(services: string[] = [], options: { signal?: AbortSignal; tail?: number } = {}): AsyncIterable<LogEntry> {
    const queue: LogEntry[] = []
    let wake = () => {}
    let done = false
    const ctx = { ...this.live(), ...(options.signal ? { signal: options.signal } : {}) }
    const reading = logs(ctx, this.project, services, { follow: true, ...(options.tail !== undefined ? { tail: options.tail } : {}) }, (e) => {
      queue.push(e)
      wake()
    }).finally(() => {
      done = true
      wake()
    })
    while (!done || queue.length) {
      if (queue.length) yield queue.shift()!
      else await new Promise<void>((r) => (wake = r))
    }
    await reading
  }

  exec(service: string, argv: string[], options: ExecOptions = {}): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
    return exec(this.live(), this.project, service, argv, options)
  }


  async stop(services: string[] = [], options: { timeoutMs?: number } = {}): Promise<void> {
    await stopContainers(this.live(), this.project, services, options)
  }

  /**
   * Takes the project down; afterwards this object can do nothing more.
   * Unlike `pier down`, its one-offs go too unless `removeOrphans: false`:
   * an environment leaves nothing behind once released from the reaper.
   */
  async down(options: DownOptions = {}): Promise<void> {
    if (this.gone) return
    await down(this.ctx, this.project, { removeOrphans: true, ...options })
    this.gone = true
    release(this.project.name)
    if (this.ownsEngine) await this.ctx.engine.close()
  }

  /** `await using`: down, with the project's volumes, so a test leaves nothing behind. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.down({ volumes: true })
  }
}

/** One service of a started project. Ports and URLs are read from the project's last refresh. */
export class ServiceHandle {
  constructor(
    private readonly env: StartedProject,
    readonly name: string,
  ) {}

  /** The host port a container port is published on (`index`: which replica). */
  port(containerPort: number, options: { protocol?: string; index?: number } = {}): number {
    return Number(this.binding(containerPort, options).hostPort)
  }

  /** `http://HOST:PORT/path` of a published port; loopback when it is published on every address. */
  url(containerPort: number, path = '/', options: { index?: number } = {}): string {
    const b = this.binding(containerPort, options)
    const host = !b.hostIp || b.hostIp === '0.0.0.0' || b.hostIp === '::' ? '127.0.0.1' : b.hostIp
    return `http://${host.includes(':') ? `[${host}]` : host}:${b.hostPort}${path.startsWith('/') ? path : `/${path}`}`
  }

  /** The container's address on a network (default: its first), from other containers' point of view. */
  address(network?: string, options: { index?: number } = {}): string | undefined {
    const c = this.env.container(this.name, options.index)
    return network ? c.addresses[network] : Object.values(c.addresses)[0]
  }

  exec(argv: string[], options: ExecOptions = {}): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
    return this.env.exec(this.name, argv, options)
  }

  logs(options: Omit<LogsOptions, 'follow'> = {}): Promise<LogEntry[]> {
    return this.env.logs([this.name], options)
  }

  private binding(containerPort: number, options: { protocol?: string; index?: number }) {
    const protocol = options.protocol ?? 'tcp'
    const c = this.env.container(this.name, options.index)
    const b = c.ports.find((p) => p.containerPort === containerPort && p.protocol === protocol)
    if (!b) throw new UsageError(`no port ${containerPort}/${protocol} is published for service "${this.name}": publish it (ports: ["${containerPort}"] gives a free host port)`)
    return b
  }
}

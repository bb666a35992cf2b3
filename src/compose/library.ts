import type { Container, Engine } from '../engine/engine.js'
import { openEngine, type EngineName } from '../engine/index.js'
import { UsageError } from '../errors.js'
import { loadProject, type LoadOptions } from '../spec/load.js'
import type { Project } from '../spec/project.js'
import { stop as stopContainers } from './containers.js'
import type { Context, Reporter } from './context.js'
import { down, type DownOptions } from './down.js'
import { exec, type ExecOptions } from './exec.js'
import { logs, type LogEntry, type LogsOptions } from './logs.js'
import { port, ps, type PsOptions } from './ps.js'
import { up as upVerb, type UpOptions, type UpResult } from './up.js'

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

/** Loads the project and brings it up: `await using env = await up({ file: 'compose.yaml', wait: true })`. */
export async function up(options: ProjectSource & EngineChoice & UpOptions = {}): Promise<StartedProject> {
  const loaded = await load(options)
  try {
    return await loaded.up(options)
  } catch (err) {
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

  async up(options: UpOptions = {}): Promise<StartedProject> {
    const result = await upVerb(this.ctx, this.project, options)
    return new StartedProject(this.project, this.ctx, this.ownsEngine, result)
  }

  /** Releases the engine, if this object opened it. */
  async close(): Promise<void> {
    if (this.ownsEngine) await this.ctx.engine.close()
  }
}

/** A project that `up()` started: the only object that can stop it or take it down. */
export class StartedProject {
  private gone = false

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

  /** What the services' containers wrote, merged in time order. */
  async logs(services: string[] = [], options: Omit<LogsOptions, 'follow'> = {}): Promise<LogEntry[]> {
    const out: LogEntry[] = []
    await logs(this.live(), this.project, services, options, (e) => out.push(e))
    return out
  }

  exec(service: string, argv: string[], options: ExecOptions = {}): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
    return exec(this.live(), this.project, service, argv, options)
  }

  /** The host port a container port of the service is published on. */
  async port(service: string, containerPort: number, options: { protocol?: string; index?: number } = {}): Promise<number> {
    return (await port(this.live(), this.project, service, containerPort, options)).hostPort
  }

  /** `http://HOST:PORT` of a published container port; the host is loopback when published on every address. */
  async url(service: string, containerPort: number, path = '/'): Promise<string> {
    const published = await port(this.live(), this.project, service, containerPort)
    const host = published.hostIp === '0.0.0.0' || published.hostIp === '::' ? '127.0.0.1' : published.hostIp
    return `http://${host.includes(':') ? `[${host}]` : host}:${published.hostPort}${path}`
  }

  async stop(services: string[] = [], options: { timeoutMs?: number } = {}): Promise<void> {
    await stopContainers(this.live(), this.project, services, options)
  }

  /** Takes the project down; afterwards this object can do nothing more. */
  async down(options: DownOptions = {}): Promise<void> {
    if (this.gone) return
    await down(this.ctx, this.project, options)
    this.gone = true
    if (this.ownsEngine) await this.ctx.engine.close()
  }

  /** `await using`: down, with the project's volumes, so a test leaves nothing behind. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.down({ volumes: true })
  }
}

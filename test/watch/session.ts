import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Context } from '../../src/compose/context.js'
import { down } from '../../src/compose/down.js'
import { up } from '../../src/compose/up.js'
import { watch, type WatchOptions } from '../../src/compose/watch.js'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import type { Container } from '../../src/engine/engine.js'
import { LABEL } from '../../src/labels.js'
import { loadProject } from '../../src/spec/load.js'
import type { Project } from '../../src/spec/project.js'
import { containerSignatures, hostSignature, walk } from '../../src/watch/sync.js'
import { engineWithBusybox } from '../support/containers.js'
import { TempProject } from '../support/helpers.js'

/**
 * A project brought up on a test engine and watched in this process, the
 * lines the watch reports collected. `dispose` stops the watch, takes the
 * project down and removes its directory, also when the test failed.
 */
export class WatchSession {
  readonly messages: string[] = []
  readonly warnings: string[] = []
  private readonly controller = new AbortController()
  private running?: Promise<void>
  readonly ctx: Context

  private constructor(
    readonly engine: EmbeddedEngine,
    readonly dir: TempProject,
    readonly project: Project,
  ) {
    this.ctx = {
      engine,
      signal: this.controller.signal,
      reporter: { message: (text, level) => (level === 'warning' ? this.warnings : this.messages).push(text) },
    }
  }

  static async start(engine: EmbeddedEngine, name: string, files: Record<string, string>, options: WatchOptions & { beforeWatch?: (s: WatchSession) => Promise<void> } = {}): Promise<WatchSession> {
    const dir = new TempProject(files)
    const project = await loadProject({ cwd: dir.dir, environment: {}, projectName: name, onWarning: () => undefined })
    const session = new WatchSession(engine, dir, project)
    try {
      await up(session.ctx, project)
      await options.beforeWatch?.(session)
      await new Promise<void>((resolve, reject) => {
        session.running = watch(session.ctx, project, { noUp: true, ...options, onReady: resolve })
        session.running.catch(reject)
      })
    } catch (err) {
      await session.dispose()
      throw err
    }
    return session
  }

  write(path: string, content: string): void {
    const full = this.dir.path(path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, content)
  }

  remove(path: string): void {
    rmSync(this.dir.path(path), { recursive: true, force: true })
  }

  async container(service: string): Promise<Container> {
    const [c] = await this.engine.listContainers({ [LABEL.project]: this.project.name, [LABEL.service]: service }, { all: true })
    if (!c) throw new Error(`no container for ${service}`)
    return c
  }

  async cat(service: string, path: string): Promise<string | undefined> {
    // A container between stop and start has nothing to say yet.
    const r = await this.container(service)
      .then((c) => this.engine.exec(c.id, { argv: ['cat', path] }))
      .catch(() => undefined)
    return r?.exitCode === 0 ? r.stdout : undefined
  }

  /** The host tree under `hostDir` and the container's under `target`, as comparable maps (relative path → signature). */
  async trees(service: string, hostDir: string, target: string, keep: (rel: string) => boolean = () => true): Promise<{ host: Record<string, string>; container: Record<string, string> }> {
    const root = this.dir.path(hostDir)
    const host: Record<string, string> = {}
    for (const p of await walk(root, (q) => keep(q.slice(root.length + 1)))) if (p !== root) host[p.slice(root.length + 1)] = (await hostSignature(p))!
    const container: Record<string, string> = {}
    for (const [p, sig] of await containerSignatures(this.engine, (await this.container(service)).id, target, () => true)) if (p !== target && keep(p.slice(target.length + 1))) container[p.slice(target.length + 1)] = sig
    return { host, container }
  }

  async dispose(): Promise<void> {
    this.controller.abort()
    await this.running?.catch(() => undefined)
    try {
      await down({ engine: this.engine }, this.project, { volumes: true, stopTimeoutMs: 0 })
    } finally {
      this.dir.cleanup()
    }
  }
}

/** Polls `check` until it holds (or throws with what it last saw). */
export async function eventually<T>(check: () => Promise<T> | T, done: (v: T) => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T
  do {
    last = await check()
    if (done(last)) return last
    await new Promise((r) => setTimeout(r, 50))
  } while (Date.now() < deadline)
  throw new Error(`${typeof what === 'string' ? what : what()}: still ${JSON.stringify(last)} after ${timeoutMs} ms`)
}

/**
 * The hooks of a suite of watch sessions on one test engine: each test's
 * session is taken down after it (also when it failed), the engine after all.
 */
export function watchSessions() {
  let engine: EmbeddedEngine
  let cleanup: () => Promise<void>
  let current: WatchSession | undefined
  before(async () => ({ engine, cleanup } = await engineWithBusybox()))
  afterEach(async () => {
    await current?.dispose()
    current = undefined
  })
  after(async () => cleanup())
  return {
    get engine() {
      return engine
    },
    async start(what: string, files: Record<string, string>, options: Parameters<typeof WatchSession.start>[3] = {}): Promise<WatchSession> {
      current = await WatchSession.start(engine, `pier-watch-${what}-${process.pid}`, files, options)
      return current
    },
  }
}

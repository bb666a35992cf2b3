import type { Container, ProcessList } from '../engine/engine.js'
import { UsageError } from '../errors.js'
import { LABEL } from '../labels.js'
import { DependencyGraph } from '../planner/graph.js'
import { selectServices } from '../planner/reconcile.js'
import type { Project } from '../spec/project.js'
import type { Context } from './context.js'

/**
 * The verbs that act on a project's existing containers: start, stop,
 * restart, kill, rm, pause, unpause, wait, top. Each finds the containers
 * of the named services (all when none is named) through the engine's
 * labels, acts on them at once, and tells the reporter about each.
 */

export const isRunning = (c: Container) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused'

/** Services named by the caller must exist: an unknown one is a usage error in Compose's words, listing the project's. */
export function requireServices(project: Project, names: string[]): void {
  for (const name of names) {
    if (!project.services[name]) throw new UsageError(`no such service: ${name} (the project has ${Object.keys(project.services).sort().join(', ')})`)
  }
}

export interface ScopeOptions {
  /** Stopped containers too (default true). */
  all?: boolean
  /** One-off containers too (default: only when services are named). */
  oneOffs?: boolean
}

/** The project's containers of `services` (all services when empty), by name. */
export async function containersOf(ctx: Context, project: Project, services: string[] = [], options: ScopeOptions = {}): Promise<Container[]> {
  requireServices(project, services)
  const oneOffs = options.oneOffs ?? services.length > 0
  return (await ctx.engine.listContainers({ [LABEL.project]: project.name }, { all: options.all ?? true }))
    .filter((c) => oneOffs || c.labels[LABEL.oneoff] !== 'True')
    .filter((c) => services.length === 0 || services.includes(c.labels[LABEL.service]))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** No container where the verb needs one: one line saying what to do. */
export function noContainer(project: Project, services: string[], what: 'created' | 'running' | 'paused'): UsageError {
  return new UsageError(`no ${what} container${services.length ? ` for ${services.join(', ')}` : ''} in project ${project.name}${what === 'running' ? ': start it with "pier up -d"' : ''}`)
}

/**
 * Runs `fn` on each container at once, reported in Compose's progress words
 * (`Starting` then `Started`); the first failure fails the verb.
 */
async function each(ctx: Context, containers: Container[], [working, done]: [string, string], fn: (c: Container) => Promise<unknown>): Promise<Container[]> {
  const results = await Promise.allSettled(
    containers.map(async (c) => {
      ctx.reporter?.container?.(c, working)
      await fn(c)
      ctx.reporter?.container?.(c, done)
    }),
  )
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  return containers
}

const stopOptions = (timeoutMs?: number) => (timeoutMs !== undefined ? { timeoutMs } : {})

/** `start`: stopped containers started, the services' dependencies before them (and started too, as Compose does). */
export async function start(ctx: Context, project: Project, services: string[] = []): Promise<Container[]> {
  requireServices(project, services)
  const order = selectServices(project, services)
  const containers = (await containersOf(ctx, project, [], { oneOffs: false })).filter((c) => order.includes(c.labels[LABEL.service]))
  if (containers.length === 0) throw noContainer(project, services, 'created')
  const started: Container[] = []
  // Service by service in dependency order, each service's replicas at once.
  for (const service of order) {
    const stopped = containers.filter((c) => c.labels[LABEL.service] === service && !isRunning(c))
    started.push(...(await each(ctx, stopped, ['Starting', 'Started'], (c) => ctx.engine.start(c.id))))
  }
  return started
}

export async function stop(ctx: Context, project: Project, services: string[] = [], options: { timeoutMs?: number } = {}): Promise<Container[]> {
  const containers = await containersOf(ctx, project, services)
  return each(ctx, containers.filter(isRunning), ['Stopping', 'Stopped'], (c) => ctx.engine.stop(c.id, stopOptions(options.timeoutMs)))
}

/**
 * `restart`: the services' containers stopped and started again; with
 * services named, the services that depend on them with `restart: true`
 * follow, after them, as Compose restarts them.
 */
export async function restart(ctx: Context, project: Project, services: string[] = [], options: { timeoutMs?: number } = {}): Promise<Container[]> {
  requireServices(project, services)
  const targets = services.length ? withRestartDependents(project, services) : []
  const containers = (await containersOf(ctx, project, [], { oneOffs: false })).filter((c) => targets.length === 0 || targets.includes(c.labels[LABEL.service]))
  if (containers.length === 0) throw noContainer(project, services, 'created')
  const restartOne = async (c: Container) => {
    if (isRunning(c)) await ctx.engine.stop(c.id, stopOptions(options.timeoutMs))
    await ctx.engine.start(c.id)
  }
  if (targets.length === 0) return each(ctx, containers, ['Restarting', 'Started'], restartOne)
  const done: Container[] = []
  for (const service of targets) done.push(...(await each(ctx, containers.filter((c) => c.labels[LABEL.service] === service), ['Restarting', 'Started'], restartOne)))
  return done
}

/** `services` and, transitively, what depends on them with `restart: true`, dependencies first. */
function withRestartDependents(project: Project, services: string[]): string[] {
  const graph = DependencyGraph.of(project)
  const out = new Set(services)
  const visit = (s: string) => {
    for (const e of graph.dependents(s)) {
      if (e.restart && !out.has(e.from)) {
        out.add(e.from)
        visit(e.from)
      }
    }
  }
  services.forEach(visit)
  return graph.startOrder().filter((s) => out.has(s))
}

export async function kill(ctx: Context, project: Project, services: string[] = [], options: { signal?: string } = {}): Promise<Container[]> {
  const targets = (await containersOf(ctx, project, services)).filter(isRunning)
  if (targets.length === 0) throw noContainer(project, services, 'running')
  return each(ctx, targets, ['Killing', 'Killed'], (c) => ctx.engine.kill(c.id, options.signal ?? 'KILL'))
}

/**
 * `rm`: stopped containers removed (with `stop`, running ones are stopped
 * first). `confirm` is asked with the list unless `force`; without it, the
 * answer is no.
 */
export async function rm(ctx: Context, project: Project, services: string[] = [], options: { force?: boolean; stop?: boolean; volumes?: boolean; confirm?: (names: string[]) => Promise<boolean> } = {}): Promise<Container[]> {
  const containers = await containersOf(ctx, project, services)
  if (options.stop) await each(ctx, containers.filter(isRunning), ['Stopping', 'Stopped'], (c) => ctx.engine.stop(c.id))
  const targets = options.stop ? containers : containers.filter((c) => !isRunning(c))
  if (targets.length === 0) return []
  if (!options.force && !(await options.confirm?.(targets.map((c) => c.name)))) return []
  return each(ctx, targets, ['Removing', 'Removed'], (c) => ctx.engine.remove(c.id, { force: true, volumes: !!options.volumes }))
}

/** `pause`: running containers paused; nothing to pause is not an error, as in Compose. */
export async function pause(ctx: Context, project: Project, services: string[] = []): Promise<Container[]> {
  const targets = (await containersOf(ctx, project, services)).filter((c) => c.state === 'running')
  return each(ctx, targets, ['Pausing', 'Paused'], (c) => ctx.engine.pause(c.id))
}

export async function unpause(ctx: Context, project: Project, services: string[] = []): Promise<Container[]> {
  const targets = (await containersOf(ctx, project, services)).filter((c) => c.state === 'paused')
  return each(ctx, targets, ['Unpausing', 'Unpaused'], (c) => ctx.engine.unpause(c.id))
}

/** `wait`: until the containers stop; their exit codes, in the order of `containers`. */
export async function wait(ctx: Context, project: Project, services: string[] = []): Promise<{ container: Container; exitCode: number }[]> {
  const containers = await containersOf(ctx, project, services)
  if (containers.length === 0) throw noContainer(project, services, 'created')
  const codes = await Promise.all(containers.map((c) => ctx.engine.wait(c.id)))
  return containers.map((container, i) => ({ container, exitCode: codes[i] }))
}

export async function top(ctx: Context, project: Project, services: string[] = []): Promise<{ container: Container; processes: ProcessList }[]> {
  const targets = (await containersOf(ctx, project, services)).filter(isRunning)
  if (targets.length === 0) throw noContainer(project, services, 'running')
  return Promise.all(targets.map(async (container) => ({ container, processes: await ctx.engine.top(container.id) })))
}

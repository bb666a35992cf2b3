import { UsageError } from '../errors.js'
import { observe } from '../planner/observe.js'
import type { Plan } from '../planner/plan.js'
import { reconcileUp, selectServices, type UpOptions as PlanOptions } from '../planner/reconcile.js'
import type { Project } from '../spec/project.js'
import type { Context } from './context.js'
import { ensureImages, type ImageOptions } from './images.js'
import { runPlan } from './run-plan.js'
import { waitForServices } from './wait.js'

/** The planner's choices (services, noDeps, recreate, noStart, orphans, scale, stop timeout), the image policy, and how to run. */
export interface UpOptions extends ImageOptions, Omit<PlanOptions, 'images' | 'capabilities'> {
  /** At most this many engine calls at once. */
  parallel?: number
  /** After starting, wait until the services run and are healthy (`--wait`). */
  wait?: boolean
  /** How long `wait` and each dependency condition may take (default 120 s). */
  waitTimeoutMs?: number
  /** Plan and return the plan; change nothing. */
  dryRun?: boolean
  /** Attached `up` (an Attacher): told the plan before it runs, and each container before it starts. */
  attacher?: { planned(plan: Plan): Promise<void>; beforeStart(name: string): Promise<void> }
}

export interface UpResult {
  plan: Plan
  /** The services acted on: the selection and what it needs. */
  services: string[]
}

/**
 * `up`: the selected services (and what they need) brought to the project —
 * images first (only theirs), then one plan made against what the engine
 * holds, then run. Every spec error stops it before anything changes.
 */
export async function up(ctx: Context, project: Project, options: UpOptions = {}): Promise<UpResult> {
  for (const name of [...(options.services ?? []), ...Object.keys(options.scale ?? {})]) {
    if (!project.services[name]) throw new UsageError(`no such service: ${name} (the project has ${Object.keys(project.services).sort().join(', ')})`)
  }
  for (const [name, n] of Object.entries(options.scale ?? {})) {
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`invalid scale ${n} for ${name}: give a whole number`)
  }
  const services = selectServices(project, options.services, options.noDeps)
  const images = await ensureImages(ctx, project, services, options)
  const plan = reconcileUp(project, await observe(ctx.engine, project.name), {
    services,
    noDeps: true,
    images,
    capabilities: ctx.engine.capabilities,
    ...pick(options, ['forceRecreate', 'noRecreate', 'noStart', 'removeOrphans', 'ignoreOrphans', 'scale', 'stopTimeoutMs']),
  })
  if (options.dryRun) return { plan, services }
  await options.attacher?.planned(plan)
  await runPlan(ctx, plan, { ...pick(options, ['parallel', 'waitTimeoutMs']), ...(options.attacher ? { beforeStart: options.attacher.beforeStart } : {}) })
  if (options.wait && !options.noStart) await waitForServices(ctx, project.name, services, options.waitTimeoutMs ?? 120_000)
  return { plan, services }
}

/** The options that are set, for passing on under exactOptionalPropertyTypes-style care. */
export function pick<T extends object, K extends keyof T>(from: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k]
  return out
}

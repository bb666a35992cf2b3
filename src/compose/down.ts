import { observe } from '../planner/observe.js'
import type { Plan } from '../planner/plan.js'
import { reconcileDown } from '../planner/reconcile.js'
import type { Project } from '../spec/project.js'
import { EngineError } from '../engine/errors.js'
import { requireServices } from './containers.js'
import { info, type Context } from './context.js'
import { builtImageName } from './images.js'
import { runPlan } from './run-plan.js'

export interface DownOptions {
  /** Named volumes of the project and the containers' anonymous volumes go too (`-v`). */
  volumes?: boolean
  removeOrphans?: boolean
  /** The stop grace period, over the services' own (`-t`). */
  stopTimeoutMs?: number
  dryRun?: boolean
  parallel?: number
  /** `--rmi`: the images of every service (`all`), or only those built without an `image:` name (`local`). */
  removeImages?: 'all' | 'local'
  /** `down SERVICE…`: only these services' containers (and those of the services depending on them). */
  services?: string[]
}

/**
 * `down`: the project's containers stopped and removed, then its networks
 * (and volumes with `volumes`); one-offs only with `removeOrphans`. With
 * `services`, only theirs (see reconcileDown).
 */
export async function down(ctx: Context, project: Project, options: DownOptions = {}): Promise<Plan> {
  requireServices(project, options.services ?? [])
  const plan = reconcileDown(project, await observe(ctx.engine, project.name), {
    ...(options.volumes ? { volumes: true } : {}),
    ...(options.removeOrphans ? { removeOrphans: true } : {}),
    ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
    ...(options.services?.length ? { services: options.services } : {}),
  })
  if (options.dryRun) return plan
  await runPlan(ctx, plan, options.parallel ? { parallel: options.parallel } : {})
  if (options.removeImages) await removeImages(ctx, project, options.removeImages, options.services ?? [])
  return plan
}

/** The project's images, after its containers are gone; one already gone is not an error. */
async function removeImages(ctx: Context, project: Project, which: 'all' | 'local', services: string[]): Promise<void> {
  const refs = new Set<string>()
  for (const service of Object.values(project.services)) {
    if (services.length && !services.includes(service.name)) continue
    if (which === 'local' && (service.image || !service.build)) continue
    refs.add(builtImageName(project, service))
  }
  for (const ref of refs) {
    try {
      await ctx.engine.removeImage(ref)
      info(ctx, `Image ${ref}  Removed`)
    } catch (err) {
      if (!(err instanceof EngineError && err.code === 'not-found')) throw err
    }
  }
}

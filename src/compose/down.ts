import { observe } from '../planner/observe.js'
import type { Plan } from '../planner/plan.js'
import { reconcileDown } from '../planner/reconcile.js'
import type { Project } from '../spec/project.js'
import type { Context } from './context.js'
import { runPlan } from './run-plan.js'

export interface DownOptions {
  /** Named volumes of the project and the containers' anonymous volumes go too (`-v`). */
  volumes?: boolean
  removeOrphans?: boolean
  /** The stop grace period, over the services' own (`-t`). */
  stopTimeoutMs?: number
  dryRun?: boolean
  parallel?: number
}

/** `down`: the project's containers stopped and removed, then its networks (and volumes with `volumes`). */
export async function down(ctx: Context, project: Project, options: DownOptions = {}): Promise<Plan> {
  const plan = reconcileDown(project, await observe(ctx.engine, project.name), {
    ...(options.volumes ? { volumes: true } : {}),
    ...(options.removeOrphans ? { removeOrphans: true } : {}),
    ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
  })
  if (!options.dryRun) await runPlan(ctx, plan, options.parallel ? { parallel: options.parallel } : {})
  return plan
}

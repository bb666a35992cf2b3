import { abortError, AbortError, PierError } from '../errors.js'
import { execute } from '../planner/execute.js'
import type { Action, Plan } from '../planner/plan.js'
import { warn, type Context } from './context.js'

/** The resource a step acts on, as Compose names it in its progress: `Container p-web-1`. */
export function resourceOf(a: Action): string {
  if (a.kind === 'await-service') return `Service ${a.service}`
  const kind = a.kind.endsWith('network') ? 'Network' : a.kind.endsWith('volume') ? 'Volume' : 'Container'
  return `${kind} ${a.name}`
}

/**
 * A step of a plan failed. It keeps the failure's own code (a conflict stays
 * a conflict) and the failure itself as its cause, and names the resource.
 */
export class StepFailure extends PierError {
  readonly code: string

  constructor(
    readonly resource: string,
    readonly failure: Error,
    more: number,
  ) {
    super(`${resource}: ${failure.message}${more > 0 ? ` (and ${more} more failures)` : ''}`, { cause: failure })
    this.code = failure instanceof PierError ? failure.code : 'runtime'
  }
}

export interface RunPlanOptions {
  /** At most this many engine calls at once (`--parallel`, COMPOSE_PARALLEL_LIMIT). */
  parallel?: number
  /** How long a dependency's healthy or completed condition may take. */
  waitTimeoutMs?: number
  /** Told before each container is started (attached `up`). */
  beforeStart?: (name: string) => Promise<void>
}

/**
 * Runs a plan through the executor with the caller's reporter. Everything
 * independent of a failure still runs; then the first failure is thrown
 * (an AbortError if the caller aborted).
 */
export async function runPlan(ctx: Context, plan: Plan, options: RunPlanOptions = {}): Promise<void> {
  for (const w of plan.warnings) warn(ctx, w)
  if (plan.steps.length === 0) return
  await ctx.reporter?.planStarted?.(plan)
  let result
  try {
    result = await execute(plan, ctx.engine, {
      ...(options.parallel ? { parallel: options.parallel } : {}),
      ...(options.waitTimeoutMs !== undefined ? { waitTimeoutMs: options.waitTimeoutMs } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(options.beforeStart ? { beforeStart: options.beforeStart } : {}),
      onEvent: (e) => ctx.reporter?.step?.(e),
      onWarning: (text) => warn(ctx, text),
    })
  } finally {
    await ctx.reporter?.planFinished?.(plan)
  }
  if (ctx.signal?.aborted) throw abortError(ctx.signal)
  const failures = result.failures.filter((f) => !(f.error instanceof AbortError))
  if (failures.length) throw new StepFailure(resourceOf(failures[0].step.action), failures[0].error, failures.length - 1)
}

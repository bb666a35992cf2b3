/**
 * A Plan is data: the steps that bring the engine to the project, each one
 * engine call with the reason it exists and the steps (and conditions) it
 * waits for. The executor walks it without deciding anything;
 * `pier up --dry-run` prints it.
 */
import type { ContainerSpec, NetworkSpec, VolumeSpec } from '../engine/engine.js'

export type Reason =
  | 'new'
  | 'config changed'
  | 'image changed'
  | 'forced'
  | 'dependency recreated'
  | 'stopped'
  | 'scale down'
  | 'orphan'
  | 'down'
  | 'dependency condition'

/**
 * Each action is one engine call, with everything the call needs resolved
 * at planning time (specs, names, timeouts): the executor decides nothing.
 */
export type Action =
  | { kind: 'create-network'; network: string; name: string; spec: NetworkSpec }
  | { kind: 'create-volume'; volume: string; name: string; spec: VolumeSpec }
  | { kind: 'create-container'; service: string; number: number; name: string; spec: ContainerSpec }
  | { kind: 'start-container'; service: string; name: string }
  | { kind: 'stop-container'; service: string; name: string; id: string; timeoutMs?: number }
  /** `volumes`: its anonymous volumes go with it (`down -v`); a replaced container leaves them to its successor. */
  | { kind: 'remove-container'; service: string; name: string; id: string; volumes?: boolean }
  | { kind: 'remove-network'; name: string }
  | { kind: 'remove-volume'; name: string }
  /** A dependency left as it is, whose condition (healthy, completed) must still hold. */
  | { kind: 'await-service'; service: string; condition: 'healthy' | 'completed' }

export type Condition = 'done' | 'started' | 'healthy' | 'completed'

export interface After {
  step: string
  condition: Condition
  /** A `required: false` dependency: if its condition fails, the step warns and goes on, as Compose does. */
  optional?: boolean
}

export interface Step {
  id: string
  action: Action
  reason: Reason
  /** Steps that must have reached `condition` before this one runs. */
  after: After[]
}

export interface Plan {
  project: string
  steps: Step[]
  warnings: string[]
}

/**
 * The plan with ids and edges, one line a step — `[3] create-container
 * shop-api-1 (new) <- 1:done, 2:healthy` — what golden tests pin.
 */
export function formatPlanGraph(plan: Plan): string {
  return plan.steps
    .map((s) => {
      const a = s.action
      const target = a.kind === 'await-service' ? `${a.service} ${a.condition}` : a.name
      const after = s.after.length ? ` <- ${s.after.map((x) => `${x.step}:${x.condition}${x.optional ? '?' : ''}`).join(', ')}` : ''
      return `[${s.id}] ${a.kind} ${target} (${s.reason})${after}\n`
    })
    .join('')
}

/** One line a step, in an order the executor could run them: `pier up --dry-run`. */
export function formatPlan(plan: Plan): string {
  if (plan.steps.length === 0) return `project ${plan.project}: nothing to do, everything is up to date\n`
  return plan.steps
    .map((s) => {
      const a = s.action
      const what =
        a.kind === 'await-service'
          ? `wait for ${a.service} to be ${a.condition}`
          : `${a.kind.replace('-', ' ')} ${'name' in a ? a.name : ''}`
      return `${what.padEnd(48)} (${s.reason})\n`
    })
    .join('')
}

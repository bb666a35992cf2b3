/**
 * A Plan is data: the steps that bring the engine to the project, each one
 * engine call with the reason it exists and the steps (and conditions) it
 * waits for. The executor walks it without deciding anything;
 * `pier up --dry-run` prints it.
 */

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

export type Action =
  | { kind: 'create-network'; network: string; name: string }
  | { kind: 'create-volume'; volume: string; name: string }
  | { kind: 'create-container'; service: string; number: number; name: string }
  | { kind: 'start-container'; service: string; name: string }
  | { kind: 'stop-container'; service: string; name: string; id: string }
  | { kind: 'remove-container'; service: string; name: string; id: string }
  | { kind: 'remove-network'; name: string }
  | { kind: 'remove-volume'; name: string }
  /** A dependency left as it is, whose condition (healthy, completed) must still hold. */
  | { kind: 'await-service'; service: string; condition: 'healthy' | 'completed' }

export type Condition = 'done' | 'started' | 'healthy' | 'completed'

export interface Step {
  id: string
  action: Action
  reason: Reason
  /** Steps that must have reached `condition` before this one runs. */
  after: { step: string; condition: Condition }[]
}

export interface Plan {
  project: string
  steps: Step[]
  warnings: string[]
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

import { resourceOf } from '../compose/run-plan.js'
import { AbortError } from '../errors.js'
import type { StepEvent } from '../planner/execute.js'
import type { Action, Plan } from '../planner/plan.js'
import type { ProgressMode } from './progress.js'

/** Compose's words for each kind of step: while it runs, once it is done. */
const WORDS: Record<Action['kind'], [string, string]> = {
  'create-network': ['Creating', 'Created'],
  'create-volume': ['Creating', 'Created'],
  'create-container': ['Creating', 'Created'],
  'start-container': ['Starting', 'Started'],
  'stop-container': ['Stopping', 'Stopped'],
  'remove-container': ['Removing', 'Removed'],
  'remove-network': ['Removing', 'Removed'],
  'remove-volume': ['Removing', 'Removed'],
  'await-service': ['Waiting', 'Healthy'],
}


function statusOf(event: StepEvent): string {
  const [doing, did] = WORDS[event.step.action.kind]
  switch (event.status) {
    case 'running':
      return doing
    case 'done':
      return did
    case 'failed':
      return `Error: ${event.error?.message}`
    case 'skipped':
      return event.error instanceof AbortError ? 'Canceled' : `Skipped: not done: ${event.error?.message}`
    default:
      return 'Waiting'
  }
}

export interface PlanReporter {
  onEvent(event: StepEvent): void
  /** Resolves once the display has drawn its last state. */
  finish(): Promise<void>
}

/**
 * Progress of a running plan on standard error, one line per resource (a
 * container's create and start share its line, as in Compose): a listr2 task
 * per resource on a terminal, running side by side as the executor runs
 * them; one plain line per change otherwise; JSON objects with `json`;
 * nothing with `quiet`.
 */
export async function planReporter(plan: Plan, mode: ProgressMode): Promise<PlanReporter> {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'tty' : 'plain') : mode
  if (resolved === 'quiet') return { onEvent: () => {}, finish: async () => {} }
  if (resolved === 'json') {
    return {
      onEvent: (e) => process.stderr.write(`${JSON.stringify({ resource: resourceOf(e.step.action), action: e.step.action.kind, status: e.status, ...(e.error ? { error: e.error.message } : {}) })}\n`),
      finish: async () => {},
    }
  }
  if (resolved === 'plain') {
    return {
      onEvent: (e) => process.stderr.write(`${resourceOf(e.step.action).padEnd(40)} ${statusOf(e)}\n`),
      finish: async () => {},
    }
  }
  return ttyReporter(plan)
}

async function ttyReporter(plan: Plan): Promise<PlanReporter> {
  const { Listr, ProcessOutput } = await import('listr2')
  type Task = { title: string | undefined }
  interface Line {
    pending: number
    failed?: string
    task?: Task
    title: string
    settle: () => void
    settled: Promise<void>
  }
  const lines = new Map<string, Line>()
  for (const step of plan.steps) {
    const name = resourceOf(step.action)
    const line = lines.get(name)
    if (line) {
      line.pending++
      continue
    }
    let settle = () => {}
    const settled = new Promise<void>((r) => (settle = r))
    lines.set(name, { pending: 1, title: `${name.padEnd(40)} Waiting`, settle, settled })
  }
  const list = new Listr(
    [...lines.entries()].map(([name, line]) => ({
      title: line.title,
      task: async (_ctx: unknown, task: Task) => {
        line.task = task
        task.title = line.title
        await line.settled
        if (line.failed) throw new Error(`${name.padEnd(40)} ${line.failed}`)
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { collapseErrors: false },
      // Progress belongs on standard error; standard output carries data (and logs).
      processOutput: new ProcessOutput(process.stderr, process.stderr),
    } as ConstructorParameters<typeof Listr>[1],
  )
  const running = list.run().catch(() => undefined)
  return {
    onEvent(e) {
      const name = resourceOf(e.step.action)
      const line = lines.get(name)!
      line.title = `${name.padEnd(40)} ${statusOf(e)}`
      if (line.task) line.task.title = line.title
      if (e.status === 'failed' || e.status === 'skipped') line.failed ??= statusOf(e)
      if (e.status === 'done' || e.status === 'failed' || e.status === 'skipped') {
        if (--line.pending === 0) line.settle()
      }
    },
    async finish() {
      for (const line of lines.values()) line.settle()
      await running
    },
  }
}

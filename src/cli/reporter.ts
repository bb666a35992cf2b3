import type { Reporter } from '../compose/context.js'
import type { Plan } from '../planner/plan.js'
import { planReporter, type PlanReporter } from './plan-progress.js'
import type { ProgressMode } from './progress.js'

/**
 * The CLI's reporter: plans drawn by plan-progress (listr2 on a terminal,
 * plain lines otherwise), messages and build output on standard error, so
 * standard output carries only data.
 */
export function cliReporter(progress: ProgressMode, options: { quietPull?: boolean } = {}): Reporter {
  const quiet = progress === 'quiet'
  let current: PlanReporter | undefined
  return {
    async planStarted(plan: Plan) {
      current = await planReporter(plan, progress)
    },
    step: (event) => current?.onEvent(event),
    async planFinished() {
      await current?.finish()
      current = undefined
    },
    message(text, level) {
      if (level === 'warning') return void process.stderr.write(`warning: ${text}\n`)
      if (quiet || (options.quietPull && text.startsWith('Pulling '))) return
      process.stderr.write(`${text}\n`)
    },
    buildOutput: (service, line) => (quiet ? undefined : process.stderr.write(`${service}  ${line}\n`)),
    container: (c, done) => (quiet ? undefined : process.stderr.write(`Container ${c.name.padEnd(30)} ${done}\n`)),
  }
}

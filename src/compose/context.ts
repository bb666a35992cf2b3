import type { Container, Engine } from '../engine/engine.js'
import type { StepEvent } from '../planner/execute.js'
import type { Plan } from '../planner/plan.js'

/**
 * What the orchestration layer tells its caller while it works. Every
 * method is optional: the library prints nothing unless a reporter is given;
 * the CLI's reporter draws progress on standard error.
 */
export interface Reporter {
  /** A plan is about to run; a display may set itself up (resolves when it can take events). */
  planStarted?(plan: Plan): void | Promise<void>
  /** A step of the running plan changed state. */
  step?(event: StepEvent): void
  /** The plan has run; resolves once the display has drawn its last state. */
  planFinished?(plan: Plan): void | Promise<void>
  /** A line for the user: what is being pulled or built, a warning. */
  message?(text: string, level: 'info' | 'warning'): void
  /** A line of a service's image build. */
  buildOutput?(service: string, line: string): void
  /** A verb acted on a container (`Started`, `Stopped`, `Killed` …), in Compose's words. */
  container?(container: Container, done: string): void
}

/** Where a verb runs: the engine, who hears about it, and what can stop it. */
export interface Context {
  engine: Engine
  reporter?: Reporter
  /** Once aborted (Ctrl-C, a test's timeout), nothing further starts; the verb ends with an AbortError. */
  signal?: AbortSignal
}

export const warn = (ctx: Context, text: string) => ctx.reporter?.message?.(text, 'warning')
export const info = (ctx: Context, text: string) => ctx.reporter?.message?.(text, 'info')

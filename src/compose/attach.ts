import type { Container } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'
import { containersOf, isRunning } from './containers.js'
import type { Context } from './context.js'
import { followLogs, type LogConsumer } from './logs.js'

export interface AttachOptions {
  /** The services `up` acted on. */
  services: string[]
  /** Follow only these (`--attach`) … */
  attach?: string[]
  /** … and not these (`--no-attach`). */
  noAttach?: string[]
  /** Only output written from this moment on (containers `up` kept running). */
  since?: string
  /** The first container to stop stops them all (`--abort-on-container-exit`). */
  abortOnExit?: boolean
  /** Only a container that exits non-zero stops them all (`--abort-on-container-failure`). */
  abortOnFailure?: boolean
  /** The exit code to return is this service's (`--exit-code-from`; implies abortOnExit). */
  exitCodeFrom?: string
  stopTimeoutMs?: number
}

export interface AttachResult {
  containers: Container[]
  /** With abortOnExit or exitCodeFrom: the exit code the command should end with. */
  exitCode?: number
}

/**
 * Attached `up`: the output of the services' containers until they all exit
 * (or the caller aborts). With abort-on-exit, the first exit stops the rest
 * gracefully. `onAttach` hears which containers are followed, before the
 * first line.
 */
export async function attach(ctx: Context, project: Project, options: AttachOptions, consumer: LogConsumer, events: { onAttach?: (containers: Container[]) => void; onExit?: (container: Container, exitCode: number) => void; onAbort?: () => void } = {}): Promise<AttachResult> {
  const containers = (await containersOf(ctx, project, [], { oneOffs: false })).filter(
    (c) => options.services.includes(c.labels[LABEL.service]) && (!options.attach?.length || options.attach.includes(c.labels[LABEL.service])) && !options.noAttach?.includes(c.labels[LABEL.service]),
  )
  if (containers.length === 0) return { containers }
  events.onAttach?.(containers)
  const abort = options.abortOnExit || options.exitCodeFrom !== undefined || options.abortOnFailure
  let exitCode: number | undefined
  let stopping: Promise<void> | undefined
  await followLogs(ctx, containers, options.since ? { since: options.since } : {}, consumer, (c, code) => {
    events.onExit?.(c, code)
    if (options.exitCodeFrom !== undefined ? c.labels[LABEL.service] === options.exitCodeFrom : exitCode === undefined && (!options.abortOnFailure || code !== 0)) exitCode = code
    if (abort && !stopping && (!options.abortOnFailure || code !== 0)) {
      events.onAbort?.()
      stopping = stopAll(ctx, project, options.services, { ...(options.stopTimeoutMs !== undefined ? { timeoutMs: options.stopTimeoutMs } : {}) })
    }
  })
  await stopping
  return { containers, ...(abort && exitCode !== undefined ? { exitCode } : {}) }
}

/** Stops (or, with `kill`, kills) the running containers of `services`: Ctrl-C during attached `up`, an abort on exit. */
export async function stopAll(ctx: Context, project: Project, services: string[], options: { kill?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const running = (await containersOf({ engine: ctx.engine }, project, [], { oneOffs: false })).filter((c) => services.includes(c.labels[LABEL.service]) && isRunning(c))
  await Promise.all(running.map((c) => (options.kill ? ctx.engine.kill(c.id, 'KILL') : ctx.engine.stop(c.id, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {})).catch(() => undefined)))
}

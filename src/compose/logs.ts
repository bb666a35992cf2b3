import type { Container, LogLine, LogOptions } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'
import { containersOf, isRunning } from './containers.js'
import type { Context } from './context.js'

/** One line of a container's output, with the container it came from. */
export interface LogEntry {
  container: Container
  line: LogLine
}

export type LogConsumer = (entry: LogEntry) => void

export interface LogsOptions {
  tail?: number
  since?: string
  until?: string
  /** Keep following the running containers' new lines until they stop (or the signal aborts). */
  follow?: boolean
  /** Only this replica of each service (`--index`). */
  index?: number
}

/**
 * `logs`: what the containers of `services` wrote, every container's lines
 * merged in time order; with `follow`, then their new lines as they come.
 * Returns the containers it read, in the order their lines were numbered.
 */
export async function logs(ctx: Context, project: Project, services: string[], options: LogsOptions, consumer: LogConsumer): Promise<Container[]> {
  const containers = (await containersOf(ctx, project, services)).filter((c) => options.index === undefined || c.labels[LABEL.number] === String(options.index))
  const merged: LogEntry[] = []
  const read = { ...(options.tail !== undefined ? { tail: options.tail } : {}), ...(options.since ? { since: options.since } : {}), ...(options.until ? { until: options.until } : {}) }
  for (const container of containers) {
    for await (const line of ctx.engine.logs(container.id, read)) merged.push({ container, line })
  }
  merged.sort((a, b) => (a.line.time < b.line.time ? -1 : a.line.time > b.line.time ? 1 : 0))
  merged.forEach(consumer)
  if (options.follow) await followLogs(ctx, containers.filter(isRunning), { since: new Date().toISOString() }, consumer)
  return containers
}

/**
 * Follows the output of `containers` until every one has exited (and is not
 * restarting) or the context's signal aborts; `onExit` hears each exit code.
 * Resolves with the exit codes by container name.
 */
export async function followLogs(ctx: Context, containers: Container[], options: Pick<LogOptions, 'since'>, consumer: LogConsumer, onExit?: (container: Container, exitCode: number) => void): Promise<Map<string, number>> {
  const codes = new Map<string, number>()
  const aborted = new Promise<'aborted'>((resolve) => {
    if (ctx.signal?.aborted) resolve('aborted')
    ctx.signal?.addEventListener('abort', () => resolve('aborted'), { once: true })
  })
  await Promise.all(
    containers.map(async (container) => {
      const lines = ctx.engine.logs(container.id, { follow: true, ...(options.since ? { since: options.since } : {}) })[Symbol.asyncIterator]()
      for (;;) {
        const next = await Promise.race([lines.next(), aborted])
        if (next === 'aborted') {
          await lines.return?.()
          return
        }
        if (next.done) break
        consumer({ container, line: next.value })
      }
      const code = (await ctx.engine.inspectContainer(container.id))?.exitCode ?? 0
      codes.set(container.name, code)
      onExit?.(container, code)
    }),
  )
  return codes
}

import type { Container, ExecSpec } from '../engine/engine.js'
import { UsageError } from '../errors.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'
import { containersOf } from './containers.js'
import type { Context } from './context.js'

export interface ExecOptions extends Omit<ExecSpec, 'argv'> {
  /** Which replica (`--index`, default 1). */
  index?: number
}

/** The running replica `index` of `service`, or a line saying it does not run. */
export async function runningReplica(ctx: Context, project: Project, service: string, index = 1): Promise<Container> {
  const containers = await containersOf(ctx, project, [service], { all: false, oneOffs: false })
  const target = containers.find((c) => c.labels[LABEL.number] === String(index))
  if (!target) throw new UsageError(`service "${service}" is not running${index > 1 ? ` with index ${index}` : ''} in project ${project.name}: start it with "pier up -d ${service}"`)
  return target
}

/**
 * `exec`: a process in a running container of the service. Without `stdio`
 * its output is collected and returned; with it, it streams.
 */
export async function exec(ctx: Context, project: Project, service: string, argv: string[], options: ExecOptions = {}): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
  if (argv.length === 0) throw new UsageError('exec needs a command to run')
  const { index, ...spec } = options
  const target = await runningReplica(ctx, project, service, index)
  return ctx.engine.exec(target.id, { ...spec, argv })
}

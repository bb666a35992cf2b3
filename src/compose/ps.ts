import type { Container, ContainerState } from '../engine/engine.js'
import { UsageError } from '../errors.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'
import { containersOf } from './containers.js'
import type { Context } from './context.js'

export const STATES: ContainerState[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead']

export interface PsOptions {
  /** Stopped containers too. */
  all?: boolean
  /** Only containers in these states. */
  status?: string[]
}

/** `ps`: the project's containers (of `services`), by name; one-offs included, as Compose lists them. */
export async function ps(ctx: Context, project: Project, services: string[] = [], options: PsOptions = {}): Promise<Container[]> {
  for (const s of options.status ?? []) if (!STATES.includes(s as ContainerState)) throw new UsageError(`invalid status "${s}": use one of ${STATES.join(', ')}`)
  const containers = await containersOf(ctx, project, services, { all: options.all || !!options.status?.length, oneOffs: true })
  return containers.filter((c) => !options.status?.length || options.status.includes(c.state))
}

/** `port`: where a container port of replica `index` of `service` is published on this machine. */
export async function port(ctx: Context, project: Project, service: string, containerPort: number, options: { protocol?: string; index?: number } = {}): Promise<{ hostIp: string; hostPort: number }> {
  const protocol = options.protocol ?? 'tcp'
  const index = options.index ?? 1
  const containers = (await containersOf(ctx, project, [service], { all: false, oneOffs: false })).filter((c) => c.labels[LABEL.number] === String(index))
  if (containers.length === 0) throw new UsageError(`service "${service}" has no running container${index > 1 ? ` with index ${index}` : ''}: start it with "pier up -d ${service}"`)
  const binding = containers[0].ports.find((p) => p.containerPort === containerPort && p.protocol === protocol)
  if (!binding) throw new UsageError(`no port ${containerPort}/${protocol} is published for service "${service}"`)
  return { hostIp: binding.hostIp ?? '0.0.0.0', hostPort: Number(binding.hostPort) }
}

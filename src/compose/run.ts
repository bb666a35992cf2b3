import { randomBytes } from 'node:crypto'
import type { Container, ContainerSpec, Mount, PortBinding } from '../engine/engine.js'
import { UsageError } from '../errors.js'
import { LABEL } from '../labels.js'
import { containerSpec } from '../planner/container-spec.js'
import { observe } from '../planner/observe.js'
import { reconcileRun, selectServices } from '../planner/reconcile.js'
import { checkSupport } from '../planner/support.js'
import type { Project } from '../spec/project.js'
import { requireServices } from './containers.js'
import { warn, type Context } from './context.js'
import { ensureImages, type ImageOptions } from './images.js'
import { runPlan } from './run-plan.js'

export interface RunOptions extends ImageOptions {
  /** The command, over the service's (empty: the service's own). */
  command?: string[]
  /** `--entrypoint`: over the service's and the image's ('' clears it). */
  entrypoint?: string
  env?: Record<string, string>
  user?: string
  workingDir?: string
  /** Extra mounts (`-v`). */
  mounts?: Mount[]
  /** Extra published ports (`-p`). */
  ports?: PortBinding[]
  /** Publish the service's own ports too (`--service-ports`). */
  servicePorts?: boolean
  /** The container's name (default `<project>-<service>-run-<hex>`). */
  name?: string
  /** Leave the dependencies alone (`--no-deps`). */
  noDeps?: boolean
  tty?: boolean
  /** Keep stdin open (`-i`, Compose's default for run). */
  stdinOpen?: boolean
  waitTimeoutMs?: number
}

/**
 * `run` up to the one-off's creation: its dependencies brought up as `up`
 * would, their conditions (healthy, completed) awaited, the service's
 * networks and volumes made; then the one-off container created (not
 * started) with the service's configuration, its own name, the oneoff
 * label, no ports unless asked, no restart and no healthcheck. The spec is
 * computed before anything is made. The caller starts it: attached
 * (`engine.startAttached`) or in the background (`engine.start`).
 */
export async function createOneOff(ctx: Context, project: Project, service: string, options: RunOptions = {}): Promise<Container> {
  requireServices(project, [service])
  const dependencies = options.noDeps ? [] : selectServices(project, [service]).filter((s) => s !== service)
  const images = await ensureImages(ctx, project, [...dependencies, service], options)
  const svc = project.services[service]
  const name = options.name ?? `${project.name}-${service}-run-${randomBytes(6).toString('hex')}`
  const spec = oneOffSpec(containerSpec(project, svc, 1, images[service], name), svc.entrypoint ?? images[service].config.entrypoint ?? [], options)
  for (const w of checkSupport(svc, spec, ctx.engine.capabilities)) warn(ctx, w)
  const plan = reconcileRun(project, await observe(ctx.engine, project.name), service, { images, capabilities: ctx.engine.capabilities, ...(options.noDeps ? { noDeps: true } : {}) })
  await runPlan(ctx, plan, options.waitTimeoutMs !== undefined ? { waitTimeoutMs: options.waitTimeoutMs } : {})
  return ctx.engine.createContainer(spec)
}

function oneOffSpec(base: ContainerSpec, entrypointOfService: string[], options: RunOptions): ContainerSpec {
  const command = options.command ?? []
  const entrypoint = options.entrypoint !== undefined ? (options.entrypoint ? [options.entrypoint] : []) : entrypointOfService
  const argv = command.length || options.entrypoint !== undefined ? [...entrypoint, ...command] : base.argv
  if (argv.length === 0) throw new UsageError(`service "${base.labels[LABEL.service]}" has no command: give one after the service name`)
  return {
    ...base,
    argv,
    env: { ...base.env, ...options.env },
    ...(options.user ? { user: options.user } : {}),
    ...(options.workingDir ? { workingDir: options.workingDir } : {}),
    mounts: [...base.mounts, ...(options.mounts ?? [])],
    ports: [...(options.servicePorts ? base.ports : []), ...(options.ports ?? [])],
    tty: options.tty ?? false,
    stdinOpen: options.stdinOpen ?? false,
    restart: { policy: 'no' },
    // One-offs have no healthcheck to wait on and no aliases to claim the service's name.
    healthcheck: undefined,
    networks: base.networks.map((n) => ({ ...n, aliases: [] })),
    labels: { ...base.labels, [LABEL.oneoff]: 'True', [LABEL.number]: '1' },
  }
}

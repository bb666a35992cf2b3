import { randomBytes } from 'node:crypto'
import { isAbsolute, resolve } from 'node:path'
import type { ContainerSpec, Mount, PortBinding } from '../../engine/engine.js'
import { openEngine } from '../../engine/index.js'
import { containerSpec } from '../../planner/container-spec.js'
import { PlanError } from '../../planner/errors.js'
import { execute } from '../../planner/execute.js'
import { DependencyGraph } from '../../planner/graph.js'
import { LABEL } from '../../planner/labels.js'
import { observe } from '../../planner/observe.js'
import { reconcileUp } from '../../planner/reconcile.js'
import { loadProject } from '../../spec/load.js'
import type { Project } from '../../spec/project.js'
import { loadOptions, progressMode, requireServices, type GlobalFlags } from '../global.js'
import { planReporter } from '../plan-progress.js'
import { resolveImages } from './lifecycle-run.js'

export interface RunFlags {
  rm?: boolean
  detach?: boolean
  env?: string[]
  user?: string
  workdir?: string
  volume?: string[]
  publish?: string[]
  servicePorts?: boolean
  entrypoint?: string
  name?: string
  deps: boolean
  tty: boolean
}

/**
 * `pier run SERVICE [COMMAND...]`: a one-off container with the service's
 * configuration (its own name, `oneoff` label, no ports unless asked, no
 * restart), its dependencies brought up first; attached, its output follows
 * and its exit code is pier's. It runs in pier's foreground: stdin goes to
 * it, and a terminal when pier has one (unless -T).
 */
export async function run(flags: GlobalFlags, service: string, command: string[], opts: RunFlags): Promise<void> {
  const project = await loadProject({ ...loadOptions(flags, [service]), onWarning: () => {} })
  requireServices(project, [service])
  const svc = project.services[service]
  const engine = await openEngine(flags.engine)

  const deps = opts.deps ? DependencyGraph.of(project).withDependencies([service]).filter((s) => s !== service) : []
  const images = await resolveImages(engine, project, { progress: progressMode(flags), services: [...deps, service] })
  // The dependencies come up as with `up`; for the service itself only its
  // networks and volumes are made (its own containers are left as they are).
  const full = reconcileUp(project, await observe(engine, project.name), { services: [...deps, service], noDeps: true, images: Object.fromEntries(Object.entries(images).map(([s, i]) => [s, i.id])) })
  const keep = (step: (typeof full.steps)[number]) => step.action.kind === 'create-network' || step.action.kind === 'create-volume' || ('service' in step.action && deps.includes(step.action.service))
  const steps = full.steps.filter(keep)
  const ids = new Set(steps.map((s) => s.id))
  const plan = { ...full, steps: steps.map((s) => ({ ...s, after: s.after.filter((a) => ids.has(a.step)) })) }
  if (plan.steps.length) {
    const reporter = await planReporter(plan, progressMode(flags))
    const result = await execute(plan, engine, project, { images, onEvent: (e) => reporter.onEvent(e) })
    await reporter.finish()
    if (result.failures.length) throw new PlanError('invalid', `cannot start the dependencies of ${service}: ${result.failures[0].error}`)
  }

  const name = opts.name ?? `${project.name}-${service}-run-${randomBytes(6).toString('hex')}`
  // Interactive as docker compose run is: a terminal when pier has one (unless -T), stdin always.
  const tty = !opts.detach && opts.tty && !!process.stdin.isTTY && !!process.stdout.isTTY
  const spec = { ...oneOffSpec(project, svc.name, containerSpec(project, svc, 1, images[service], name), command, opts, images[service].config.entrypoint), tty, stdinOpen: !opts.detach }
  const container = await engine.createContainer!(spec)
  if (opts.detach) {
    await engine.start!(container.id)
    process.stdout.write(`${name}\n`)
    return
  }
  let code: number
  try {
    code = await engine.startAttached!(container.id, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr })
  } finally {
    process.stdin.destroy()
    if (opts.rm) await engine.remove!(container.id, { force: true, volumes: true })
  }
  process.exitCode = code
}

function oneOffSpec(project: Project, service: string, base: ContainerSpec, command: string[], opts: RunFlags, imageEntrypoint: string[] | undefined): ContainerSpec {
  const entrypoint = opts.entrypoint !== undefined ? (opts.entrypoint ? [opts.entrypoint] : []) : project.services[service].entrypoint ?? imageEntrypoint ?? []
  const argv = command.length || opts.entrypoint !== undefined ? [...entrypoint, ...command] : base.argv
  if (argv.length === 0) throw new PlanError('invalid', `service "${service}" has no command: give one after the service name`)
  const env = { ...base.env }
  for (const e of opts.env ?? []) {
    const cut = e.indexOf('=')
    if (cut < 0) env[e] = process.env[e] ?? ''
    else env[e.slice(0, cut)] = e.slice(cut + 1)
  }
  return {
    ...base,
    argv,
    env,
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.workdir ? { workingDir: opts.workdir } : {}),
    mounts: [...base.mounts, ...(opts.volume ?? []).map((v) => volumeFlag(project, v))],
    ports: [...(opts.servicePorts ? base.ports : []), ...(opts.publish ?? []).map(publishFlag)],
    restart: { policy: 'no' },
    // One-offs have no healthcheck to wait on and no aliases to claim the service's name.
    healthcheck: undefined,
    networks: base.networks.map((n) => ({ ...n, aliases: [] })),
    labels: { ...base.labels, [LABEL.oneoff]: 'True', [LABEL.number]: '1' },
  }
}

/** `-v SOURCE:TARGET[:ro]`: a bind mount when SOURCE is a path, else a named volume. */
function volumeFlag(project: Project, text: string): Mount {
  const [source, target, mode] = text.split(':')
  if (!source || !target || !target.startsWith('/') || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) throw new PlanError('invalid', `invalid --volume "${text}": expected SOURCE:TARGET[:ro|rw] with an absolute TARGET`)
  const readOnly = mode === 'ro'
  if (source.startsWith('.') || isAbsolute(source) || source.startsWith('~')) {
    const path = source.startsWith('~') ? resolve(process.env.HOME ?? '/', source.slice(2)) : resolve(project.workingDir, source)
    return { type: 'bind', source: path, target, readOnly, createHostPath: true }
  }
  return { type: 'volume', source: project.volumes[source]?.name ?? source, target, readOnly }
}

/** `-p [[IP:]HOST:]CONTAINER[/PROTO]`. */
function publishFlag(text: string): PortBinding {
  const m = /^(?:(?:(\d+\.\d+\.\d+\.\d+):)?(\d*(?:-\d+)?):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(text)
  if (!m) throw new PlanError('invalid', `invalid --publish "${text}": expected [[IP:]HOST:]CONTAINER[/PROTOCOL]`)
  return { ...(m[1] ? { hostIp: m[1] } : {}), ...(m[2] ? { hostPort: m[2] } : {}), containerPort: Number(m[3]), protocol: (m[4] ?? 'tcp') as PortBinding['protocol'] }
}

import { openEngine, type Engine, type Image } from '../../engine/index.js'
import { EngineError } from '../../engine/errors.js'
import { PlanError } from '../../planner/errors.js'
import { execute, waitForServices } from '../../planner/execute.js'
import { LABEL } from '../../planner/labels.js'
import { observe } from '../../planner/observe.js'
import { formatPlan, type Plan } from '../../planner/plan.js'
import { reconcileDown, reconcileUp } from '../../planner/reconcile.js'
import { loadProject } from '../../spec/load.js'
import type { Project, Service } from '../../spec/project.js'
import { attachLogs, interrupts } from '../attach.js'
import { buildServices, builtImageName } from '../build.js'
import { colorOutput, loadOptions, progressMode, requireServices, seconds, type GlobalFlags } from '../global.js'
import { planReporter, resourceOf } from '../plan-progress.js'
import type { ProgressMode } from '../progress.js'
import { table } from '../table.js'

interface UpFlags {
  detach?: boolean
  build?: boolean
  abortOnContainerExit?: boolean
  exitCodeFrom?: string
  attach?: string[]
  skipAttach?: string[]
  timestamps?: boolean
  logPrefix?: boolean
  color?: boolean
  pull?: string
  quietPull?: boolean
  forceRecreate?: boolean
  recreate: boolean
  deps: boolean
  start: boolean
  removeOrphans?: boolean
  scale?: string[]
  dryRun?: boolean
  parallel?: string
  wait?: boolean
  waitTimeout: string
  timeout?: string
}

export async function up(flags: GlobalFlags, services: string[], opts: UpFlags): Promise<void> {
  const attached = !opts.detach && !opts.dryRun && !opts.wait
  // Flags are checked before anything is done.
  if (opts.pull !== undefined && !['always', 'missing', 'never'].includes(opts.pull)) throw new PlanError('invalid', `invalid --pull "${opts.pull}": use always, missing or never`)
  if ((opts.abortOnContainerExit || opts.exitCodeFrom !== undefined) && opts.detach) throw new PlanError('invalid', '--abort-on-container-exit and --exit-code-from need the attached mode: drop -d')
  const waitMs = opts.wait ? seconds(opts.waitTimeout, '--wait-timeout') * 1000 : undefined
  const stopTimeoutMs = opts.timeout !== undefined ? seconds(opts.timeout, '--timeout') * 1000 : undefined
  const project = await loadProject(loadOptions(flags, services))
  requireServices(project, [...(opts.attach ?? []), ...(opts.skipAttach ?? []), ...(opts.exitCodeFrom !== undefined ? [opts.exitCodeFrom] : [])])
  const engine = await openEngine(flags.engine)
  const scale = Object.fromEntries((opts.scale ?? []).map((s) => {
    const [name, n] = s.split('=')
    if (!(name in project.services) || !/^\d+$/.test(n ?? '')) throw new PlanError('invalid', `invalid --scale "${s}": expected SERVICE=NUMBER with a service of the project`)
    return [name, Number(n)]
  }))
  const images = opts.dryRun ? {} : await resolveImages(engine, project, { build: opts.build, pull: opts.pull, progress: opts.quietPull ? 'quiet' : progressMode(flags) })
  const plan = reconcileUp(project, await observe(engine, project.name), {
    services,
    noDeps: !opts.deps,
    forceRecreate: opts.forceRecreate,
    noRecreate: !opts.recreate,
    noStart: !opts.start,
    removeOrphans: opts.removeOrphans,
    scale,
    images: Object.fromEntries(Object.entries(images).map(([s, i]) => [s, i.id])),
  })
  if (opts.dryRun) return run(plan, engine, project, images, { dryRun: true, progress: progressMode(flags) })

  const since = new Date().toISOString()
  const ours = async () => ((await engine.listContainers?.({ [LABEL.project]: project.name }, { all: true })) ?? []).filter((c) => services.length === 0 || services.includes(c.labels[LABEL.service]))
  // Ctrl-C: the first stops starting things (and, attached, stops the containers
  // gracefully); the second kills them (attached) and leaves at once.
  const stopping = { graceful: undefined as Promise<void> | undefined }
  const stopAll = (kill: boolean) =>
    ours().then((list) =>
      Promise.all(list.filter((c) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused').map((c) => (kill ? engine.kill!(c.id, 'KILL') : engine.stop!(c.id, stopTimeoutMs !== undefined ? { timeoutMs: stopTimeoutMs } : {})).catch(() => undefined))),
    ).then(() => undefined)
  const ctrlC = interrupts({
    onFirst: () => {
      process.stderr.write(attached ? 'Gracefully stopping... (press Ctrl+C again to force)\n' : 'Canceling... (press Ctrl+C again to force)\n')
      if (attached) stopping.graceful = stopAll(false)
    },
    onSecond: () => (attached ? stopAll(true) : undefined),
  })
  try {
    await run(plan, engine, project, images, { parallel: opts.parallel, stopTimeoutMs, progress: progressMode(flags), signal: ctrlC.signal })
    if (ctrlC.signal.aborted) {
      // What started while the plan was winding down is stopped too.
      if (attached) await stopAll(false)
      process.exitCode = 130
      return
    }
    if (waitMs !== undefined) await waitForServices(engine, project.name, waitMs)
    if (!attached) return
    // --attach names the services to follow; --no-attach leaves some out.
    const containers = (await ours())
      .filter((c) => (!opts.attach?.length || opts.attach.includes(c.labels[LABEL.service])) && !opts.skipAttach?.includes(c.labels[LABEL.service]))
      .sort((a, b) => a.name.localeCompare(b.name))
    if (containers.length === 0) return
    process.stderr.write(`Attaching to ${containers.map((c) => c.name).join(', ')}\n`)
    // --abort-on-container-exit (and --exit-code-from, which implies it): the
    // first container to stop stops them all; pier exits with its code, or
    // with the named service's.
    const abort = opts.abortOnContainerExit || opts.exitCodeFrom !== undefined
    let exitCode: number | undefined
    await attachLogs(engine, containers, {
      since,
      color: colorOutput(flags) && opts.color !== false,
      prefix: opts.logPrefix !== false,
      timestamps: !!opts.timestamps,
      onExit: (c, code) => {
        if (opts.exitCodeFrom !== undefined ? c.labels[LABEL.service] === opts.exitCodeFrom : exitCode === undefined) exitCode = code
        if (abort && !stopping.graceful) {
          process.stderr.write(`Aborting on container exit...\n`)
          stopping.graceful = stopAll(false)
        }
      },
    })
    await stopping.graceful
    if (ctrlC.signal.aborted) process.exitCode = 130
    else if (abort && exitCode !== undefined) process.exitCode = exitCode
  } finally {
    ctrlC.dispose()
  }
}

export async function down(flags: GlobalFlags, opts: { volumes?: boolean; removeOrphans?: boolean; dryRun?: boolean; timeout?: string }): Promise<void> {
  const stopTimeoutMs = opts.timeout !== undefined ? seconds(opts.timeout, '--timeout') * 1000 : undefined
  const project = await loadProject({ ...loadOptions(flags), profiles: ['*'] })
  const engine = await openEngine(flags.engine)
  const plan = reconcileDown(project, await observe(engine, project.name), { volumes: opts.volumes, removeOrphans: opts.removeOrphans })
  await run(plan, engine, project, {}, { dryRun: opts.dryRun, stopTimeoutMs, progress: progressMode(flags) })
}

interface RunOptions {
  dryRun?: boolean
  parallel?: string
  stopTimeoutMs?: number
  progress: ProgressMode
  signal?: AbortSignal
}

/** Prints the plan (--dry-run), or runs it with progress; a failed step fails the command, after everything independent ran. */
async function run(plan: Plan, engine: Engine, project: Project, images: Record<string, Image>, opts: RunOptions): Promise<void> {
  for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`)
  if (opts.dryRun) {
    process.stdout.write(formatPlan(plan))
    return
  }
  if (plan.steps.length === 0) {
    if (opts.progress !== 'quiet') process.stderr.write(`project ${project.name} is up to date\n`)
    return
  }
  const reporter = await planReporter(plan, opts.progress)
  const parallel = opts.parallel ?? process.env.COMPOSE_PARALLEL_LIMIT
  const result = await execute(plan, engine, project, {
    images,
    ...(parallel ? { parallel: Number(parallel) } : {}),
    ...(opts.stopTimeoutMs !== undefined ? { stopTimeoutMs: opts.stopTimeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onEvent: (e) => reporter.onEvent(e),
  })
  await reporter.finish()
  const failures = result.failures.filter((f) => f.error !== 'cancelled')
  if (failures.length) {
    const first = failures[0]
    throw new EngineError('runtime', `${resourceOf(first.step.action)} failed: ${first.error}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`)
  }
}

/**
 * The image of every service to run: built (when the service has `build:`
 * and its image is missing, or with --build or pull_policy build), present,
 * or pulled (Compose's pull_policy "missing").
 */
export async function resolveImages(engine: Engine, project: Project, options: { build?: boolean; pull?: string; progress: ProgressMode; services?: string[] }): Promise<Record<string, Image>> {
  const out: Record<string, Image> = {}
  const toBuild: Service[] = []
  for (const service of Object.values(project.services).filter((s) => !options.services || options.services.includes(s.name))) {
    let image = await engine.inspectImage(builtImageName(project, service))
    if (service.build && (!image || options.build || service.pull_policy === 'build')) {
      toBuild.push(service)
      continue
    }
    // --pull overrides the services' pull_policy, as in Compose.
    const policy = options.pull ?? service.pull_policy ?? 'missing'
    if (!image || policy === 'always') {
      if (!service.image) throw new PlanError('invalid', `service "${service.name}" has neither image nor build`)
      if (policy === 'never') throw new EngineError('not-found', `service "${service.name}": no image ${service.image} and pull_policy is never`)
      if (options.progress !== 'quiet') process.stderr.write(`Pulling ${service.image}\n`)
      image = await engine.pullImage(service.image)
    }
    out[service.name] = image
  }
  return { ...out, ...(await buildServices(engine, project, toBuild, { progress: options.progress })) }
}

const STATES = ['created', 'running', 'paused', 'restarting', 'exited', 'dead']

export async function ps(flags: GlobalFlags, services: string[], opts: { all?: boolean; quiet?: boolean; services?: boolean; format: string; status?: string[] }): Promise<void> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new PlanError('invalid', `unknown format "${opts.format}": use table or json`)
  for (const s of opts.status ?? []) if (!STATES.includes(s)) throw new PlanError('invalid', `invalid --status "${s}": use one of ${STATES.join(', ')}`)
  const project = await loadProject({ ...loadOptions(flags, services), onWarning: () => {} })
  const engine = await openEngine(flags.engine)
  const containers = ((await engine.listContainers?.({ [LABEL.project]: project.name }, { all: opts.all || !!opts.status?.length })) ?? [])
    .filter((c) => services.length === 0 || services.includes(c.labels[LABEL.service]))
    .filter((c) => !opts.status?.length || opts.status.includes(c.state))
    .sort((a, b) => a.name.localeCompare(b.name))
  if (opts.services) return void process.stdout.write([...new Set(containers.map((c) => c.labels[LABEL.service]))].map((s) => `${s}\n`).join(''))
  if (opts.quiet) return void process.stdout.write(containers.map((c) => `${c.id}\n`).join(''))
  const rows = containers.map((c) => ({
    Name: c.name,
    Image: c.image.slice(7, 19),
    Command: JSON.stringify(c.command.join(' ')),
    Service: c.labels[LABEL.service],
    Created: c.createdAt,
    Status: c.state === 'exited' ? `Exited (${c.exitCode ?? 0})` : `${c.state[0].toUpperCase()}${c.state.slice(1)}${c.health ? ` (${c.health})` : ''}`,
    // Published ports, then exposed ones that are not published, as docker compose ps shows them.
    Ports: [
      ...c.ports.map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`),
      ...c.exposedPorts.filter((e) => !c.ports.some((p) => `${p.containerPort}/${p.protocol}` === e)),
    ].join(', '),
    Publishers: c.ports.map((p) => ({ URL: p.hostIp ?? '0.0.0.0', TargetPort: p.containerPort, PublishedPort: Number(p.hostPort), Protocol: p.protocol })),
  }))
  if (opts.format === 'json') return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
  process.stdout.write(table([['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], ...rows.map((r) => [r.Name, r.Image, r.Command, r.Service, r.Created, r.Status, r.Ports])]))
}

/** `pier port SERVICE PORT`: the host address a container port is published on. */
export async function port(flags: GlobalFlags, service: string, privatePort: string, opts: { protocol: string; index: string }): Promise<void> {
  const [number, protocolInPort] = privatePort.split('/')
  const protocol = protocolInPort ?? opts.protocol
  if (!/^\d+$/.test(number) || Number(number) > 65535) throw new PlanError('invalid', `invalid port "${privatePort}": give a container port such as 80 or 53/udp`)
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw new PlanError('invalid', `invalid protocol "${protocol}": use tcp, udp or sctp`)
  const project = await loadProject({ ...loadOptions(flags, [service]), onWarning: () => {} })
  requireServices(project, [service])
  const engine = await openEngine(flags.engine)
  const index = Number(opts.index)
  const containers = (await engine.listContainers?.({ [LABEL.project]: project.name, [LABEL.service]: service, [LABEL.number]: String(index) })) ?? []
  if (containers.length === 0) throw new PlanError('invalid', `service "${service}" has no running container${index > 1 ? ` with index ${index}` : ''}: start it with "pier up -d ${service}"`)
  const binding = containers[0].ports.find((p) => p.containerPort === Number(number) && p.protocol === protocol)
  if (!binding) throw new PlanError('invalid', `no port ${number}/${protocol} is published for service "${service}"`)
  process.stdout.write(`${binding.hostIp ?? '0.0.0.0'}:${binding.hostPort}\n`)
}

/** `pier build [SERVICE...]`: builds the services that have a build section. */
export async function build(flags: GlobalFlags, services: string[], opts: { buildArg?: string[] }): Promise<void> {
  const project = await loadProject(loadOptions(flags, services))
  const args = Object.fromEntries((opts.buildArg ?? []).map((a) => {
    const cut = a.indexOf('=')
    if (cut < 1) throw new PlanError('invalid', `invalid --build-arg "${a}": expected NAME=VALUE`)
    return [a.slice(0, cut), a.slice(cut + 1)]
  }))
  requireServices(project, services)
  const targets = Object.values(project.services).filter((s) => s.build && (services.length === 0 || services.includes(s.name)))
  if (targets.length === 0) {
    process.stderr.write('no service to build: none has a build section\n')
    return
  }
  const engine = await openEngine(flags.engine)
  await buildServices(engine, project, targets, { progress: progressMode(flags), args })
}

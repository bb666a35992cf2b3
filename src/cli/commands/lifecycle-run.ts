import { Attacher, stopAll } from '../../compose/attach.js'
import { buildServices } from '../../compose/images.js'
import { down as downVerb } from '../../compose/down.js'
import { port as portVerb, ps as psVerb } from '../../compose/ps.js'
import { up as upVerb } from '../../compose/up.js'
import { UsageError } from '../../errors.js'
import { LABEL } from '../../labels.js'
import { formatPlan } from '../../planner/plan.js'
import { selectServices } from '../../planner/reconcile.js'
import { interrupts, printLogs } from '../attach.js'
import { colorOutput, composeSwitch, contextFor, loadFor, loadOrName, millis, parallelLimit, progressMode, requireServices, type GlobalFlags } from '../global.js'
import { psRow, renderTemplate, statusFilters } from '../ps-format.js'
import { table } from '../table.js'
import * as swarm from '../swarm-run.js'

interface UpFlags {
  detach?: boolean
  build?: boolean
  abortOnContainerExit?: boolean
  abortOnContainerFailure?: boolean
  exitCodeFrom?: string
  attach?: string[]
  attachDependencies?: boolean
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
  watch?: boolean
}

/** `pier up` (and `pier create`): flags → compose.up; attached, the output follows; Ctrl-C stops gracefully, twice kills. */
export async function up(flags: GlobalFlags, services: string[], opts: UpFlags): Promise<void> {
  if (swarm.onSwarm(flags)) return swarm.up(flags, services, opts)
  const attached = !opts.detach && !opts.dryRun && !opts.wait && opts.start
  // Flags are checked before anything is done.
  if (opts.pull !== undefined && !['always', 'missing', 'never'].includes(opts.pull)) throw new UsageError(`invalid --pull "${opts.pull}": use always, missing or never`)
  if ((opts.abortOnContainerExit || opts.abortOnContainerFailure || opts.exitCodeFrom !== undefined) && opts.detach) throw new UsageError('--abort-on-container-exit, --abort-on-container-failure and --exit-code-from need the attached mode: drop -d')
  if (opts.watch && (opts.detach || opts.wait || opts.dryRun || !opts.start)) throw new UsageError('--watch needs the attached mode: drop -d, --wait, --dry-run and --no-start')
  if (opts.abortOnContainerExit && opts.abortOnContainerFailure) throw new UsageError('--abort-on-container-exit and --abort-on-container-failure cannot be used together')
  if (opts.attach?.length && opts.attachDependencies) throw new UsageError('cannot combine --attach and --attach-dependencies')
  const waitTimeoutMs = millis(opts.waitTimeout, '--wait-timeout')
  const stopTimeoutMs = millis(opts.timeout, '--timeout')
  const parallel = parallelLimit(opts.parallel)
  const scale = Object.fromEntries(
    (opts.scale ?? []).map((s) => {
      const [name, n] = s.split('=')
      if (!name || !/^\d+$/.test(n ?? '')) throw new UsageError(`invalid --scale "${s}": expected SERVICE=NUMBER`)
      return [name, Number(n)]
    }),
  )
  const project = await loadFor(flags, services)
  requireServices(project, [...(opts.attach ?? []), ...(opts.skipAttach ?? []), ...(opts.exitCodeFrom !== undefined ? [opts.exitCodeFrom] : [])])
  const removeOrphans = opts.removeOrphans ?? composeSwitch(project.environment, 'COMPOSE_REMOVE_ORPHANS')
  const ignoreOrphans = composeSwitch(project.environment, 'COMPOSE_IGNORE_ORPHANS')
  if (ignoreOrphans && removeOrphans) throw new UsageError('cannot combine COMPOSE_IGNORE_ORPHANS and --remove-orphans: unset one')

  // Ctrl-C: the first stops starting things (and, attached, stops the containers
  // gracefully); the second kills them (attached) and leaves at once.
  // What Ctrl-C stops: the services this up acts on (the named ones and what they need).
  let selected = selectServices(project, services, !opts.deps)
  let stopping: Promise<void> | undefined
  const ctrlC = interrupts({
    onFirst: () => {
      process.stderr.write(attached ? 'Gracefully stopping... (press Ctrl+C again to force)\n' : 'Canceling... (press Ctrl+C again to force)\n')
      if (attached) stopping = stopAll(ctx, project, selected, stopTimeoutMs !== undefined ? { timeoutMs: stopTimeoutMs } : {})
    },
    onSecond: () => (attached ? stopAll(ctx, project, selected, { kill: true }) : undefined),
  })
  const ctx = await contextFor(flags, { signal: ctrlC.signal, quietPull: !!opts.quietPull })
  try {
    const since = new Date().toISOString()
    const color = colorOutput(flags) && opts.color !== false
    const printer = printLogs({ color, prefix: opts.logPrefix !== false, timestamps: !!opts.timestamps })
    // The terminal progress display redraws its lines in place and would wipe output written
    // under it: there, the output waits (in order) until the plan is drawn for the last time.
    const mode = progressMode(flags)
    let held: (() => void)[] | undefined = (mode === 'auto' ? process.stderr.isTTY : mode === 'tty') ? [] : undefined
    const gate = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => (held ? void held.push(() => fn(...args)) : fn(...args))
    const release = () => {
      const waiting = held ?? []
      held = undefined
      for (const show of waiting) show()
    }
    // Attached, each container is followed from before it starts, as Compose attaches. Not under the
    // Ctrl-C signal: after Ctrl-C the output goes on until the containers have stopped.
    const attacher = attached
      ? new Attacher({ engine: ctx.engine }, project, {
          services: selected,
          // As Compose: the named services' output (their dependencies' too with --attach-dependencies),
          // and their exits are what --abort-on-container-exit watches; with none named, every service's;
          // a service with `attach: false` only when --attach names it.
          attach: opts.attach ?? (services.length && !opts.attachDependencies ? services : selected).filter((s) => project.services[s]?.attach !== false),
          ...(services.length ? { watch: services } : {}),
          ...(opts.skipAttach ? { noAttach: opts.skipAttach } : {}),
          since,
          ...(opts.abortOnContainerExit ? { abortOnExit: true } : {}),
          ...(opts.abortOnContainerFailure ? { abortOnFailure: true } : {}),
          ...(opts.exitCodeFrom !== undefined ? { exitCodeFrom: opts.exitCodeFrom } : {}),
          ...(stopTimeoutMs !== undefined ? { stopTimeoutMs } : {}),
        }, gate(printer.line), {
          onAttach: gate((names: string[]) => {
            printer.layout(names)
            process.stdout.write(`Attaching to ${names.join(', ')}\n`)
          }),
          onExit: gate(printer.exit),
          onAbort: () => process.stderr.write('Aborting on container exit...\n'),
        })
      : undefined
    // An abort on a container's exit stops the plan too: what has not started yet is not started.
    const upCtx = attacher ? { ...ctx, signal: AbortSignal.any([ctrlC.signal, attacher.signal]) } : ctx
    const result = await upVerb(upCtx, project, {
      services,
      noDeps: !opts.deps,
      ...(opts.forceRecreate ? { forceRecreate: true } : {}),
      noRecreate: !opts.recreate,
      noStart: !opts.start,
      ...(removeOrphans ? { removeOrphans: true } : {}),
      ...(ignoreOrphans ? { ignoreOrphans: true } : {}),
      scale,
      ...(opts.build ? { build: true } : {}),
      ...(opts.pull !== undefined ? { pull: opts.pull } : {}),
      ...(parallel ? { parallel } : {}),
      ...(opts.wait ? { wait: true } : {}),
      ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
      ...(stopTimeoutMs !== undefined ? { stopTimeoutMs } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      ...(attacher ? { attacher } : {}),
    }).catch((err: Error) => {
      // Stopped by the abort: the exit code is the container's, not the plan's failure.
      if (attacher?.signal.aborted && !ctrlC.signal.aborted) return undefined
      attacher?.close()
      throw err
    })
    release()
    if (!result) return void (process.exitCode = (await attacher!.finish()).exitCode ?? 0)
    selected = result.services
    if (opts.dryRun) {
      for (const w of result.plan.warnings) process.stderr.write(`warning: ${w}\n`)
      return void process.stdout.write(formatPlan(result.plan))
    }
    if (result.plan.steps.length === 0 && progressMode(flags) !== 'quiet') process.stderr.write(`project ${project.name} is up to date\n`)
    attacher?.close()
    if (!attacher) return
    // --watch: the watch runs beside the attached output until Ctrl-C (it outlives containers that exit).
    const watching = opts.watch ? (await import('../../compose/watch.js')).watch(ctx, project, { services: result.services.filter((s) => project.services[s].develop?.watch?.length), noUp: true }).catch((err: Error) => void process.stderr.write(`warning: not watching: ${err.message}\n`)) : undefined
    const { exitCode } = await attacher.finish()
    await stopping
    await watching
    if (ctrlC.signal.aborted) process.exitCode = 130
    else if (exitCode !== undefined) process.exitCode = exitCode
  } catch (err) {
    // What started while the plan was winding down is stopped too.
    if (ctrlC.signal.aborted && attached) await stopAll({ engine: ctx.engine }, project, selected, stopTimeoutMs !== undefined ? { timeoutMs: stopTimeoutMs } : {})
    throw err
  } finally {
    ctrlC.dispose()
  }
}

/** `pier down [SERVICE…]`: --remove-orphans defaults to COMPOSE_REMOVE_ORPHANS (environment, then .env), as in Compose. */
export async function down(flags: GlobalFlags, services: string[], opts: { volumes?: boolean; removeOrphans?: boolean; dryRun?: boolean; timeout?: string; rmi?: string }): Promise<void> {
  if (swarm.onSwarm(flags)) return swarm.down(flags, services, opts)
  const stopTimeoutMs = millis(opts.timeout, '--timeout')
  if (opts.rmi !== undefined && opts.rmi !== 'all' && opts.rmi !== 'local') throw new UsageError(`invalid --rmi "${opts.rmi}": use all or local`)
  const project = await loadOrName(flags, [], { allProfiles: true })
  requireServices(project, services)
  const removeOrphans = opts.removeOrphans ?? composeSwitch(project.environment, 'COMPOSE_REMOVE_ORPHANS')
  const ctx = await contextFor(flags)
  const plan = await downVerb(ctx, project, {
    ...(services.length ? { services } : {}),
    ...(opts.volumes ? { volumes: true } : {}),
    ...(removeOrphans ? { removeOrphans: true } : {}),
    ...(stopTimeoutMs !== undefined ? { stopTimeoutMs } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
    ...(opts.rmi ? { removeImages: opts.rmi as 'all' | 'local' } : {}),
  })
  if (opts.dryRun) {
    for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`)
    process.stdout.write(formatPlan(plan))
  } else if (plan.steps.length === 0 && progressMode(flags) !== 'quiet') process.stderr.write(`project ${project.name}: nothing to remove\n`)
}

/** `pier ps`: the project's containers as docker compose ps prints them (a table, JSON lines, or a Go template). */
export async function ps(flags: GlobalFlags, services: string[], opts: { all?: boolean; quiet?: boolean; services?: boolean; format: string; status?: string[]; filter?: string[] }): Promise<void> {
  if (swarm.onSwarm(flags)) return swarm.ps(flags, services, opts)
  const status = [...(opts.status ?? []), ...statusFilters(opts.filter ?? [])]
  const project = await loadOrName(flags, services, { quiet: true })
  const containers = await psVerb(await contextFor(flags), project, services, { ...(opts.all ? { all: true } : {}), ...(status.length ? { status } : {}) })
  if (opts.services) return void process.stdout.write([...new Set(containers.map((c) => c.labels[LABEL.service]))].map((s) => `${s}\n`).join(''))
  if (opts.quiet) return void process.stdout.write(containers.map((c) => `${c.id}\n`).join(''))
  const rows = containers.map((c) => psRow(c, project))
  if (opts.format === 'json') return void process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''))
  if (opts.format !== 'table') return void process.stdout.write(renderTemplate(opts.format, rows))
  process.stdout.write(table([['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], ...rows.map((r) => [r.Name, r.Image, r.Command, r.Service, r.RunningFor, r.Status, r.Ports])]))
}

/** `pier port SERVICE PORT`: the host address a container port is published on. */
export async function port(flags: GlobalFlags, service: string, privatePort: string, opts: { protocol: string; index: string }): Promise<void> {
  const [number, protocolInPort] = privatePort.split('/')
  const protocol = protocolInPort ?? opts.protocol
  if (!/^\d+$/.test(number) || Number(number) > 65535) throw new UsageError(`invalid port "${privatePort}": give a container port such as 80 or 53/udp`)
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw new UsageError(`invalid protocol "${protocol}": use tcp, udp or sctp`)
  const project = await loadFor(flags, [service], { quiet: true })
  const published = await portVerb(await contextFor(flags), project, service, Number(number), { protocol, index: Number(opts.index) })
  process.stdout.write(`${published.hostIp}:${published.hostPort}\n`)
}

/** `pier build [SERVICE...]`: builds the services that have a build section. */
export async function build(flags: GlobalFlags, services: string[], opts: { buildArg?: string[]; cache?: boolean }): Promise<void> {
  const args = Object.fromEntries(
    (opts.buildArg ?? []).map((a) => {
      const cut = a.indexOf('=')
      if (cut < 1) throw new UsageError(`invalid --build-arg "${a}": expected NAME=VALUE`)
      return [a.slice(0, cut), a.slice(cut + 1)]
    }),
  )
  const project = await loadFor(flags, services)
  requireServices(project, services)
  const targets = Object.values(project.services).filter((s) => s.build && (services.length === 0 || services.includes(s.name))).map((s) => s.name)
  if (targets.length === 0) return void process.stderr.write('no service to build: none has a build section\n')
  // Commander reads --no-cache as cache: false.
  await buildServices(await contextFor(flags), project, targets, args, { noCache: opts.cache === false })
}

/** `pier scale SERVICE=N...`: the services' replica counts changed, nothing else recreated. */
export async function scale(flags: GlobalFlags, pairs: string[], opts: { deps: boolean }): Promise<void> {
  const scale = Object.fromEntries(
    pairs.map((s) => {
      const [name, n] = s.split('=')
      if (!name || !/^\d+$/.test(n ?? '')) throw new UsageError(`invalid scale "${s}": expected SERVICE=NUMBER`)
      return [name, Number(n)]
    }),
  )
  if (pairs.length === 0) throw new UsageError('scale needs SERVICE=NUMBER')
  const project = await loadFor(flags, Object.keys(scale))
  await upVerb(await contextFor(flags), project, { services: Object.keys(scale), scale, noRecreate: true, noDeps: !opts.deps })
}

import type { Engine, Image, NetworkSpec } from '../engine/engine.js'
import { EngineError } from '../engine/errors.js'
import type { Project } from '../spec/project.js'
import { containerSpec, PIER_COMPOSE_VERSION } from './container-spec.js'
import { LABEL } from './labels.js'
import type { Condition, Plan, Step } from './plan.js'

export interface StepEvent {
  step: Step
  status: 'waiting' | 'running' | 'done' | 'failed' | 'skipped'
  error?: string
}

export interface ExecuteOptions {
  /** Steps run at once (`--parallel`, COMPOSE_PARALLEL_LIMIT); default unbounded. */
  parallel?: number
  /** How long a healthy or completed condition may take. */
  waitTimeoutMs?: number
  /** Images by service, resolved before the plan runs. */
  images: Record<string, Image>
  /** `-t`: the stop grace period for every stop, over the services' own. */
  stopTimeoutMs?: number
  onEvent?: (event: StepEvent) => void
  /** Once aborted (Ctrl-C), no further step starts; those running finish. */
  signal?: AbortSignal
}

export interface ExecuteResult {
  failures: { step: Step; error: string }[]
}

/**
 * Walks a plan: a step runs as soon as the steps it waits for have reached
 * their conditions, at most `parallel` at a time. It makes no decision; a
 * failed step fails what waits on it, and everything independent goes on.
 */
export async function execute(plan: Plan, engine: Engine, project: Project, options: ExecuteOptions): Promise<ExecuteResult> {
  const done = new Map<string, Promise<void>>()
  const failures: { step: Step; error: string }[] = []
  const slots = new Semaphore(options.parallel ?? Infinity)
  const timeout = options.waitTimeoutMs ?? 120_000
  const byId = new Map(plan.steps.map((s) => [s.id, s]))

  const reached = async (id: string, condition: Condition): Promise<void> => {
    await done.get(id)
    const step = byId.get(id)!
    if (condition === 'healthy' || condition === 'completed') await waitFor(engine, project.name, step, condition, timeout, options.signal)
  }

  for (const step of plan.steps) {
    const run = (async () => {
      try {
        await Promise.all(step.after.map((a) => reached(a.step, a.condition)))
      } catch (err) {
        const error = `not done: ${(err as Error).message}`
        options.onEvent?.({ step, status: 'skipped', error })
        throw err
      }
      await slots.acquire()
      if (options.signal?.aborted) {
        slots.release()
        options.onEvent?.({ step, status: 'skipped', error: 'cancelled' })
        throw new EngineError('runtime', 'cancelled')
      }
      options.onEvent?.({ step, status: 'running' })
      try {
        await runStep(step, engine, project, options, timeout)
        options.onEvent?.({ step, status: 'done' })
      } catch (err) {
        const error = (err as Error).message
        failures.push({ step, error })
        options.onEvent?.({ step, status: 'failed', error })
        throw err
      } finally {
        slots.release()
      }
    })()
    run.catch(() => undefined)
    done.set(step.id, run)
  }
  await Promise.allSettled(done.values())
  return { failures }
}

/** A Compose network as the engine creates it, with Compose's labels. */
function networkSpec(project: Project, key: string, name: string): NetworkSpec {
  const n = project.networks[key]
  if (n.ipam?.driver && n.ipam.driver !== 'default') throw new EngineError('unsupported', `network ${key}: ipam driver "${n.ipam.driver}" is not supported (only default)`)
  return {
    name,
    ...(n.driver ? { driver: n.driver } : {}),
    ...(n.driver_opts ? { driverOpts: n.driver_opts } : {}),
    internal: n.internal ?? false,
    enableIpv6: n.enable_ipv6 ?? false,
    ...(n.attachable !== undefined ? { attachable: n.attachable } : {}),
    ...(n.ipam?.config?.length
      ? { ipam: n.ipam.config.map((c) => ({ ...(c.subnet ? { subnet: c.subnet } : {}), ...(c.ip_range ? { ipRange: c.ip_range } : {}), ...(c.gateway ? { gateway: c.gateway } : {}), ...(c.aux_addresses ? { auxAddresses: c.aux_addresses } : {}) })) }
      : {}),
    labels: { ...n.labels, [LABEL.project]: project.name, [LABEL.network]: key, [LABEL.version]: PIER_COMPOSE_VERSION },
  }
}

async function runStep(step: Step, engine: Engine, project: Project, options: ExecuteOptions, timeoutMs: number): Promise<void> {
  const images = options.images
  const a = step.action
  const need = <T>(fn: T | undefined, what: string): T => {
    if (!fn) throw new EngineError('unsupported', `this engine cannot ${what} yet`)
    return fn
  }
  switch (a.kind) {
    case 'create-network':
      await need(engine.createNetwork, 'create networks').call(engine, networkSpec(project, a.network, a.name))
      return
    case 'create-volume': {
      const v = project.volumes[a.volume]
      await need(engine.createVolume, 'create volumes').call(engine, { name: a.name, ...(v.driver ? { driver: v.driver } : {}), ...(v.driver_opts ? { driverOpts: v.driver_opts } : {}), labels: { ...v.labels, [LABEL.project]: project.name, [LABEL.volume]: a.volume } })
      return
    }
    case 'create-container':
      await need(engine.createContainer, 'create containers').call(engine, containerSpec(project, project.services[a.service], a.number, images[a.service], a.name))
      return
    case 'start-container':
      await need(engine.start, 'start containers').call(engine, a.name)
      return
    case 'stop-container':
      await need(engine.stop, 'stop containers').call(engine, a.id, { timeoutMs: options.stopTimeoutMs ?? project.services[a.service]?.stop_grace_period })
      return
    case 'remove-container':
      await need(engine.remove, 'remove containers').call(engine, a.id, { force: true })
      return
    case 'remove-network':
      await need(engine.removeNetwork, 'remove networks').call(engine, a.name)
      return
    case 'remove-volume':
      await need(engine.removeVolume, 'remove volumes').call(engine, a.name)
      return
    case 'await-service':
      // A dependency this plan leaves as it is: its condition must still hold.
      await waitFor(engine, project.name, step, a.condition, timeoutMs, options.signal)
      return
  }
}

/**
 * `up --wait`: waits until every container the plan started runs — and is
 * healthy, if it has a healthcheck — or, for one that exits, exited 0.
 */
export async function waitForServices(engine: Engine, project: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const containers = (await engine.listContainers?.({ [LABEL.project]: project }, { all: true })) ?? []
    const failed = containers.find((c) => (c.state === 'exited' && c.exitCode !== 0) || c.health === 'unhealthy')
    if (failed) throw new EngineError('runtime', `container ${failed.name} is ${failed.health === 'unhealthy' ? 'unhealthy' : `exited with code ${failed.exitCode}`}`)
    if (containers.every((c) => c.state === 'exited' || (c.state === 'running' && (!c.health || c.health === 'healthy')))) return
    if (Date.now() > deadline) throw new EngineError('runtime', `the services were not all running and healthy within ${Math.round(timeoutMs / 1000)} s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Waits until the containers a step started (or the service it awaits) are healthy, or have exited 0. */
async function waitFor(engine: Engine, project: string, step: Step, condition: 'healthy' | 'completed', timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const a = step.action
  const target = a.kind === 'start-container' ? { name: a.name } : a.kind === 'await-service' ? { service: a.service } : undefined
  if (!target) return
  const deadline = Date.now() + timeoutMs
  for (;;) {
    // Only this project's containers: another project may have a service of the same name.
    const all = (await engine.listContainers?.({ [LABEL.project]: project }, { all: true })) ?? []
    const containers = all.filter((c) => ('name' in target ? c.name === target.name : c.labels[LABEL.service] === target.service))
    const label = 'name' in target ? target.name : target.service
    if (condition === 'healthy') {
      if (containers.some((c) => c.health === 'unhealthy')) throw new EngineError('runtime', `${label} is unhealthy`)
      if (containers.some((c) => c.state === 'exited')) throw new EngineError('runtime', `${label} exited before it became healthy`)
      if (containers.length && containers.every((c) => c.health === 'healthy')) return
      if (containers.length && containers.every((c) => !c.health && c.state === 'running')) throw new EngineError('runtime', `${label} has no healthcheck, so it can never be healthy: add one, or depend on it with service_started`)
    } else {
      const failed = containers.find((c) => c.state === 'exited' && c.exitCode !== 0)
      if (failed) throw new EngineError('runtime', `${label} did not complete successfully: exit code ${failed.exitCode}`)
      if (containers.length && containers.every((c) => c.state === 'exited')) return
    }
    if (Date.now() > deadline) throw new EngineError('runtime', `${label} was not ${condition} within ${Math.round(timeoutMs / 1000)} s`)
    if (signal?.aborted) throw new EngineError('runtime', 'cancelled')
    await new Promise((r) => setTimeout(r, 100))
  }
}

class Semaphore {
  private active = 0
  private readonly queue: (() => void)[] = []

  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++
      return
    }
    await new Promise<void>((resolve) => this.queue.push(resolve))
    this.active++
  }

  release(): void {
    this.active--
    this.queue.shift()?.()
  }
}

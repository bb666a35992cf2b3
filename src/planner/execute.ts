import type { Container, Engine } from '../engine/engine.js'
import { EngineError } from '../engine/errors.js'
import { abortError, AbortError } from '../errors.js'
import { LABEL } from '../labels.js'
import type { After, Plan, Step } from './plan.js'

export interface StepEvent {
  step: Step
  status: 'waiting' | 'running' | 'done' | 'failed' | 'skipped'
  /** Why it failed or was skipped; an AbortError when cancelled. */
  error?: Error
}

export interface ExecuteOptions {
  /** Steps run at once (`--parallel`, COMPOSE_PARALLEL_LIMIT); default unbounded. */
  parallel?: number
  /** How long a healthy or completed condition may take. */
  waitTimeoutMs?: number
  onEvent?: (event: StepEvent) => void
  /** A condition of a `required: false` dependency failed: the step went on. */
  onWarning?: (text: string) => void
  /** Once aborted (Ctrl-C), no further step starts; those running finish. */
  signal?: AbortSignal
  /** Told before a container is started (attached `up` follows it from before its first line); it decides nothing. */
  beforeStart?: (name: string) => Promise<void>
}

export interface ExecuteResult {
  failures: { step: Step; error: Error }[]
}

/**
 * Walks a plan: a step runs as soon as the steps it waits for have reached
 * their conditions, at most `parallel` at a time. It makes no decision —
 * each step is the one engine call the planner resolved — a failed step
 * fails what waits on it, and everything independent goes on.
 */
export async function execute(plan: Plan, engine: Engine, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const done = new Map<string, Promise<void>>()
  const failures: { step: Step; error: Error }[] = []
  const slots = new Semaphore(options.parallel ?? Infinity)
  const timeout = options.waitTimeoutMs ?? 120_000
  const byId = new Map(plan.steps.map((s) => [s.id, s]))

  const reached = async (after: After): Promise<void> => {
    try {
      await done.get(after.step)
      if (after.condition === 'healthy' || after.condition === 'completed') await waitFor(engine, plan.project, byId.get(after.step)!, after.condition, timeout, options.signal)
    } catch (err) {
      if (!after.optional || err instanceof AbortError) throw err
      options.onWarning?.(`${(err as Error).message}; it is not required, so pier goes on`)
    }
  }

  for (const step of plan.steps) {
    const run = (async () => {
      try {
        await Promise.all(step.after.map(reached))
      } catch (err) {
        // A condition that failed (a dependency unhealthy, a one-shot exiting non-zero) fails the
        // command, as in Compose; a failure that only passed through from an earlier step counts once.
        if (!(err instanceof AbortError) && !failures.some((f) => f.error === err)) failures.push({ step, error: err as Error })
        options.onEvent?.({ step, status: 'skipped', error: err as Error })
        throw err
      }
      await slots.acquire()
      if (options.signal?.aborted) {
        slots.release()
        const error = abortError(options.signal)
        options.onEvent?.({ step, status: 'skipped', error })
        throw error
      }
      options.onEvent?.({ step, status: 'running' })
      try {
        await runStep(step, engine, plan.project, timeout, options.signal, options.beforeStart)
        options.onEvent?.({ step, status: 'done' })
      } catch (err) {
        failures.push({ step, error: err as Error })
        options.onEvent?.({ step, status: 'failed', error: err as Error })
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

/** One step, one engine call. */
async function runStep(step: Step, engine: Engine, project: string, timeoutMs: number, signal?: AbortSignal, beforeStart?: (name: string) => Promise<void>): Promise<void> {
  const a = step.action
  switch (a.kind) {
    case 'create-network':
      await engine.createNetwork(a.spec)
      return
    case 'create-volume':
      await engine.createVolume(a.spec)
      return
    case 'create-container':
      await engine.createContainer(a.spec)
      return
    case 'start-container':
      await beforeStart?.(a.name)
      await engine.start(a.name)
      return
    case 'stop-container':
      await engine.stop(a.id, a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {})
      return
    case 'remove-container':
      await engine.remove(a.id, { force: true, ...(a.volumes ? { volumes: true } : {}) })
      return
    case 'remove-network':
      await engine.removeNetwork(a.name)
      return
    case 'remove-volume':
      await engine.removeVolume(a.name)
      return
    case 'await-service':
      // A dependency this plan leaves as it is: its condition must still hold.
      await waitFor(engine, project, step, a.condition, timeoutMs, signal)
      return
  }
}

/** A container's state in the words Compose uses when a dependency fails. */
export function failureOf(c: Container): string | undefined {
  if (c.health === 'unhealthy') return `container ${c.name} is unhealthy`
  // A crash loop fails at once, not when the wait runs out.
  if (c.state === 'restarting') return `container ${c.name} is restarting after exiting (${c.exitCode ?? 'no exit code'})`
  if (c.state === 'exited' || c.state === 'dead') return `container ${c.name} exited (${c.exitCode ?? 'no exit code'})`
  return undefined
}

/**
 * Waits until the containers a step started (or, for an await step, the
 * service's replicas — one-offs excluded) are healthy, or have exited 0.
 * Asks the engine about exactly those containers, not the whole project.
 */
async function waitFor(engine: Engine, project: string, step: Step, condition: 'healthy' | 'completed', timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const a = step.action
  if (a.kind !== 'start-container' && a.kind !== 'await-service') return
  const label = a.kind === 'start-container' ? a.name : a.service
  const look = async (): Promise<Container[]> => {
    if (a.kind === 'start-container') {
      const c = await engine.inspectContainer(a.name)
      return c ? [c] : []
    }
    return engine.listContainers({ [LABEL.project]: project, [LABEL.service]: a.service, [LABEL.oneoff]: 'False' }, { all: true })
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (signal?.aborted) throw abortError(signal)
    const containers = await look()
    if (condition === 'healthy') {
      const bad = containers.find((c) => c.health === 'unhealthy' || c.state === 'exited' || c.state === 'dead' || c.state === 'restarting')
      if (bad) throw new EngineError('runtime', `dependency failed to start: ${failureOf(bad)}`)
      if (containers.length && containers.every((c) => c.health === 'healthy')) return
      if (containers.length && containers.every((c) => !c.health && c.state === 'running')) throw new EngineError('invalid', `${label} has no healthcheck, so it can never be healthy: add one, or depend on it with service_started`)
    } else {
      const failed = containers.find((c) => (c.state === 'exited' || c.state === 'restarting') && c.exitCode !== undefined && c.exitCode !== 0)
      if (failed) throw new EngineError('runtime', `service "${failed.labels[LABEL.service] ?? label}" didn't complete successfully: exit ${failed.exitCode}`)
      if (containers.length && containers.every((c) => c.state === 'exited' && c.exitCode !== undefined)) return
    }
    if (Date.now() > deadline) throw new EngineError('runtime', `${label} was not ${condition} within ${Math.round(timeoutMs / 1000)} s`)
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

import type { Container } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import { restartPolicy } from '../planner/container-spec.js'
import type { Plan } from '../planner/plan.js'
import type { Project } from '../spec/project.js'
import { containersOf, isRunning } from './containers.js'
import type { Context } from './context.js'
import type { LogConsumer } from './logs.js'

export interface AttachOptions {
  /** The services `up` acted on: an abort stops theirs. */
  services: string[]
  /** Whose output is shown (`--attach`; default: `services`; empty: nobody's) … */
  attach?: string[]
  /** … but not these (`--no-attach`). */
  noAttach?: string[]
  /**
   * Whose exits are shown and count for an abort (default: those shown).
   * Compose watches the services named on the command line, shown or not.
   */
  watch?: string[]
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

export interface AttachEvents {
  /** The containers followed, by the names output is prefixed with, before the first line. */
  onAttach?: (names: string[]) => void
  /** A run of a container ended; `restarting` when its restart policy starts it again. */
  onExit?: (container: Container, exitCode: number, restarting: boolean) => void
  onAbort?: () => void
}

/**
 * The name a container's output is shown under, as Compose shows it: the
 * container name without the project prefix (`web-1`) when it is the
 * default one, else the name itself (`container_name`, one-offs).
 */
export function displayName(name: string, labels: Record<string, string>): string {
  const project = labels[LABEL.project]
  const byDefault = `${project}-${labels[LABEL.service]}-${labels[LABEL.number]}`
  return project && name === byDefault ? name.slice(project.length + 1) : name
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `promise`, or nothing after `ms`; the timer is cleared, so it never holds the process open. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))])
  clearTimeout(timer)
}

const POLL_MS = 100
const RESTART_POLL_MS = 40

/**
 * Attached `up`, as Compose attaches: each container is followed from
 * before it starts (`beforeStart`, called by up's executor), so no line and
 * no exit is missed, a one-shot's output is printed whole before anything
 * that waited for it starts, and every run of a restarting container ends
 * with its own "exited with code N". With abort-on-exit, the container that
 * exited first (by the engine's finish time, not by which exit pier noticed
 * first) stops the rest and decides the exit code.
 */
export class Attacher {
  private readonly followers = new Map<string, { container: Container; done: Promise<void>; started: boolean; finished: boolean; attachedExit: string | undefined }>()
  private planEnded = false
  private exitCode: number | undefined
  private fromCode: number | undefined
  private stopping: Promise<void> | undefined
  private deciding: Promise<void> = Promise.resolve()
  private announced = false
  private readonly aborting = new AbortController()
  /** Aborts once a container's exit stopped them all: up starts nothing more (its plan ends with an AbortError). */
  readonly signal: AbortSignal = this.aborting.signal

  constructor(
    private readonly ctx: Context,
    private readonly project: Project,
    private readonly options: AttachOptions,
    private readonly consumer: LogConsumer,
    private readonly events: AttachEvents = {},
  ) {}

  /** Whether this service's output is shown. */
  private shown(service: string): boolean {
    return (this.options.attach ?? this.options.services).includes(service) && !this.options.noAttach?.includes(service)
  }

  /** Whether this service's exits are shown and count for an abort. */
  private watched(service: string): boolean {
    return this.options.watch ? this.options.watch.includes(service) : this.shown(service)
  }

  /** Whether this container is followed: a service's replica, shown or watched. */
  wants(labels: Record<string, string>): boolean {
    const service = labels[LABEL.service]
    return labels[LABEL.oneoff] !== 'True' && (this.shown(service) || this.watched(service))
  }

  /** Up's plan is made: "Attaching to …" names what will be followed, before anything starts. */
  async planned(plan: Plan): Promise<void> {
    const removed = new Set(plan.steps.flatMap((s) => (s.action.kind === 'remove-container' ? [s.action.id] : [])))
    const existing = (await containersOf({ engine: this.ctx.engine }, this.project, [], { oneOffs: false })).filter((c) => !removed.has(c.id) && this.wants(c.labels))
    const names = existing.filter((c) => this.shown(c.labels[LABEL.service])).map((c) => displayName(c.name, c.labels))
    for (const s of plan.steps) {
      const a = s.action
      if (a.kind === 'create-container' && this.wants(a.spec.labels) && this.shown(a.service)) names.push(displayName(a.name, a.spec.labels))
    }
    this.announce([...new Set(names)].sort())
  }

  /** Up's executor is about to start `name`: follow it from now, after what already ended is printed. */
  readonly beforeStart = async (name: string): Promise<void> => {
    try {
      const c = await this.ctx.engine.inspectContainer(name)
      if (!c || !this.wants(c.labels)) return
      await this.drain()
      this.follow(c, new Date().toISOString(), false)
    } catch {
      // Following is best effort: it never stops the start.
    }
  }

  /**
   * After up: the wanted containers up did not start (kept running) are
   * followed from `since`; resolves once every followed container has
   * exited for good (and, after an abort, the rest have stopped).
   */
  async finish(): Promise<AttachResult> {
    this.close()
    const current = (await containersOf({ engine: this.ctx.engine }, this.project, [], { oneOffs: false })).filter((c) => this.wants(c.labels))
    this.announce(current.filter((c) => this.shown(c.labels[LABEL.service])).map((c) => displayName(c.name, c.labels)))
    for (const c of current) if (isRunning(c)) this.follow(c, this.options.since, true)
    // A start up made just before it ended may add a follower while these are awaited: those are awaited too.
    for (let count = -1; count !== this.followers.size; ) {
      count = this.followers.size
      await Promise.all([...this.followers.values()].map((f) => f.done))
    }
    await this.deciding
    await this.stopping
    const containers = [...this.followers.values()].map((f) => f.container)
    const code = this.options.exitCodeFrom !== undefined ? this.fromCode : this.exitCode
    return { containers, ...(this.aborts() && code !== undefined ? { exitCode: code } : {}) }
  }

  private announce(names: string[]): void {
    if (this.announced || names.length === 0) return
    this.announced = true
    this.events.onAttach?.(names)
  }

  private aborts(): boolean {
    return !!(this.options.abortOnExit || this.options.exitCodeFrom !== undefined || this.options.abortOnFailure)
  }

  /** The output of containers that have run and exited is printed to its end (their exit line too) before the caller goes on. */
  private async drain(): Promise<void> {
    const open = [...this.followers.values()].filter((f) => f.started && !f.finished)
    await Promise.all(
      open.map(async (f) => {
        const c = await this.ctx.engine.inspectContainer(f.container.id).catch(() => undefined)
        if (c && (c.state === 'exited' || c.state === 'dead')) await within(f.done, 5_000)
      }),
    )
  }

  /** Up's plan has ended (or failed): a container followed for a start that never came is no longer waited for. */
  close(): void {
    this.planEnded = true
  }

  /**
   * Follows one container until it has exited for good: its lines as they
   * come, and each run's exit. Told before a start, it first waits for the
   * start to happen (the engine's start time changes): a stopped container
   * still shows its last run until then. The log stream ends only when the
   * engine is done with the container (embedded) or at each exit (Docker),
   * so a poll of its state beside it hears the exits of runs a restart
   * policy follows.
   */
  private follow(container: Container, since: string | undefined, started: boolean): void {
    if (this.followers.has(container.id)) return
    const shown = this.shown(container.labels[LABEL.service])
    const follower = { container, done: Promise.resolve(), started, finished: false, attachedExit: container.finishedAt }
    let reported = container.finishedAt
    const report = (c: Container) => {
      if (!c.finishedAt || c.finishedAt === reported) return
      reported = c.finishedAt
      this.exited(container, c, c.state === 'restarting' || c.state === 'running' || c.state === 'paused')
    }
    const startedYet = async (): Promise<boolean> => {
      while (!follower.started) {
        const c = await this.ctx.engine.inspectContainer(container.id).catch(() => undefined)
        if (!c) return false
        if (c.startedAt && c.startedAt !== container.startedAt) follower.started = true
        else if (this.planEnded) return false
        else await sleep(POLL_MS / 2)
      }
      return true
    }
    // Only a container its restart policy may start again has runs that end before the last: only
    // those are polled, often enough to see each back-off (100 ms at first) on either engine.
    const service = this.project.services[container.labels[LABEL.service]]
    const restarts = !!service && restartPolicy(service).policy !== 'no'
    const poll = async () => {
      while (restarts && !follower.finished) {
        await sleep(RESTART_POLL_MS)
        const c = await this.ctx.engine.inspectContainer(container.id).catch(() => undefined)
        // A run ended and the next is on its way: that exit is reported now, not at the very end.
        // Running again, only where the engine still knows the last run's code (Docker resets it).
        if (c && !follower.finished && (c.state === 'restarting' || (c.state === 'running' && c.exitCode !== undefined))) report(c)
      }
    }
    const read = async () => {
      let from = since
      // The time of the last line shown, and how many were shown with that time: a stream opened again
      // after a restart, from that time on, passes over those. Lines of one time are not all one line:
      // a process writing to stdout and stderr at once often stamps both in the same millisecond.
      let last = ''
      let atLast = 0
      let reopened = false
      for (;;) {
        let skip = atLast
        for await (const line of this.ctx.engine.logs(container.id, { follow: true, ...(from ? { since: from } : {}) })) {
          if (reopened && (line.time < last || (line.time === last && skip-- > 0))) continue
          if (line.time === last) atLast++
          else {
            last = line.time
            atLast = 1
          }
          if (shown) this.consumer({ container, line })
        }
        const c = await this.ctx.engine.inspectContainer(container.id).catch(() => undefined)
        if (!c) return
        report(c)
        if (c.state === 'exited' || c.state === 'dead') return
        // Restarting: the stream ended at the exit (Docker), so it is opened again.
        if (last) from = last
        reopened = true
        await sleep(POLL_MS)
      }
    }
    follower.done = (async () => {
      if (!(await startedYet())) return
      const polling = poll()
      try {
        await read()
      } finally {
        follower.finished = true
        await polling
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        follower.finished = true
      })
    this.followers.set(container.id, follower)
  }

  /** One run of `container` ended (state `c`); abort and exit code are decided here, one exit at a time. */
  private exited(container: Container, c: Container, restarting: boolean): void {
    const code = c.exitCode ?? 0
    if (!this.watched(container.labels[LABEL.service])) return
    this.events.onExit?.(container, code, restarting)
    if (this.options.exitCodeFrom !== undefined && container.labels[LABEL.service] === this.options.exitCodeFrom && this.fromCode === undefined) this.fromCode = code
    if (!this.aborts() || this.stopping || (this.options.abortOnFailure && code === 0)) return
    this.deciding = this.deciding.then(() => this.abort(c))
  }

  /**
   * The first exit seen starts the abort; the code is that of the container
   * that finished first among those that have exited since they were
   * followed, so two exits close together always give the same answer.
   */
  private async abort(seen: Container): Promise<void> {
    if (this.stopping) return
    let first = seen
    for (const f of this.followers.values()) {
      if (!this.watched(f.container.labels[LABEL.service])) continue
      const c = await this.ctx.engine.inspectContainer(f.container.id).catch(() => undefined)
      if (!c?.finishedAt || c.finishedAt === f.attachedExit || (this.options.abortOnFailure && (c.exitCode ?? 0) === 0)) continue
      if (c.finishedAt < (first.finishedAt ?? '')) first = c
    }
    this.exitCode = first.exitCode ?? 0
    this.aborting.abort()
    this.events.onAbort?.()
    this.stopping = stopAll(this.ctx, this.project, this.options.services, this.options.stopTimeoutMs !== undefined ? { timeoutMs: this.options.stopTimeoutMs } : {})
  }
}

/**
 * Attached output for containers already started (the library's form,
 * without following from before the start): until they all exit.
 */
export async function attach(ctx: Context, project: Project, options: AttachOptions, consumer: LogConsumer, events: AttachEvents = {}): Promise<AttachResult> {
  return new Attacher(ctx, project, options, consumer, events).finish()
}

/** Stops (or, with `kill`, kills) the running containers of `services`: Ctrl-C during attached `up`, an abort on exit. */
export async function stopAll(ctx: Context, project: Project, services: string[], options: { kill?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const running = (await containersOf({ engine: ctx.engine }, project, [], { oneOffs: false })).filter((c) => services.includes(c.labels[LABEL.service]) && isRunning(c))
  await Promise.all(running.map((c) => (options.kill ? ctx.engine.kill(c.id, 'KILL') : ctx.engine.stop(c.id, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {})).catch(() => undefined)))
}

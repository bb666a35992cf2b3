import type { Container, Engine } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'
import { allEntries, applyPending, entriesFor, newState, readContainer, syncRule, type ContainerState, type SyncResult } from './apply.js'
import { containerPath, ruleMatches, skipDirectory, type CompiledRule } from './rules.js'
import { startWatcher } from './watcher.js'

/**
 * The watch loop: file batches from the watcher become, per service, a
 * rebuild, or syncs then one restart then the exec hooks; containers are
 * followed by polling the engine, so a restarted container gets what it
 * missed and a new one (recreated, scaled up) gets the difference between
 * the host and what it holds. Everything that touches containers runs in
 * one queue, in order, so a resync never races a batch.
 */

/**
 * Where the loop runs. The verbs that change services (rebuild, restart)
 * are the orchestration layer's, handed in, so this layer stays below it.
 */
export interface LoopContext {
  engine: Engine
  signal?: AbortSignal
  info(text: string): void
  warn(text: string): void
  /** Build the service's image and recreate that service alone. */
  rebuild(service: string): Promise<void>
  /** Restart the service's containers (and, as Compose does, `restart: true` dependents). */
  restart(service: string): Promise<void>
}

export interface LoopOptions {
  /** The watched services' compiled rules. */
  rules: CompiledRule[]
  quietMs?: number
  maxMs?: number
  pollMs?: number
  /** Called once the watcher has scanned the tree: later changes are seen. */
  onReady?: () => void
}

const elapsed = (since: number) => {
  const ms = performance.now() - since
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
const isRunning = (c: Container) => c.state === 'running' || c.state === 'restarting'

export async function watchLoop(ctx: LoopContext, project: Project, options: LoopOptions): Promise<void> {
  const say = (text: string) => ctx.info(text)
  const fail = (text: string) => ctx.warn(text)
  const services = [...new Set(options.rules.map((r) => r.service))]
  const rulesOf = (service: string) => options.rules.filter((r) => r.service === service)
  const syncRulesOf = (service: string) => rulesOf(service).filter((r) => r.rule.action.startsWith('sync'))
  const states = new Map<string, ContainerState>()
  /** Per service: host paths seen this session, so a delete found by a resync is sent. */
  const seen = new Map(services.map((s) => [s, new Set<string>()]))

  let queue: Promise<void> = Promise.resolve()
  const enqueue = (what: string, job: () => Promise<void>) => {
    queue = queue.then(job).catch((err: Error) => fail(`${what}: ${err.message}; still watching`))
    return queue
  }

  const syncAll = async (state: ContainerState, service: string, reason: string) => {
    const started = performance.now()
    const total: SyncResult = { sent: 0, removed: 0, deferred: 0 }
    total.removed += await applyPending(ctx.engine, state)
    for (const rule of syncRulesOf(service)) add(total, await syncRule(ctx.engine, state, rule, await allEntries(rule, seen.get(service)!)))
    if (total.sent + total.removed > 0) say(`${state.container.name}: ${summary(total)} (${reason}) in ${elapsed(started)}`)
  }

  /** One container's resync failing is its own line: the others are still compared. */
  const guarded = (c: Container, job: () => Promise<void>) => job().catch((err: Error) => fail(`${c.name}: resync failed: ${err.message}; still watching`))

  /** The engine's view of the watched containers, compared with the last: what started, what is new. */
  const refresh = async (initial = false) => {
    const now = (await ctx.engine.listContainers({ [LABEL.project]: project.name }, { all: true })).filter((c) => services.includes(c.labels[LABEL.service]) && c.labels[LABEL.oneoff] !== 'True')
    for (const id of [...states.keys()]) if (!now.some((c) => c.id === id)) states.delete(id)
    for (const c of now) {
      const service = c.labels[LABEL.service]
      const before = states.get(c.id)
      if (!before) {
        const state = newState(c)
        states.set(c.id, state)
        const initialSync = syncRulesOf(service).some((r) => r.rule.initial_sync)
        // A container there when the watch began is synced only with initial_sync (as Compose); a new one always: it holds what its image holds.
        if (!initial || initialSync) await guarded(c, async () => {
          await readContainer(ctx.engine, state, syncRulesOf(service))
          await syncAll(state, service, initial ? 'initial sync' : 'new container')
        })
        continue
      }
      const restarted = c.startedAt !== before.container.startedAt && isRunning(c)
      before.container = c
      if (restarted) await guarded(c, () => syncAll(before, service, 'after a restart'))
    }
  }

  const handleBatch = async (paths: string[]) => {
    await Promise.all(services.map((service) => handleService(service, paths)))
  }

  const handleService = async (service: string, paths: string[]) => {
    const matched = rulesOf(service)
      .map((rule) => ({ rule, paths: paths.filter((p) => ruleMatches(rule, p) || ruleMatches(rule, p, true)) }))
      .filter((m) => m.paths.length > 0)
    if (matched.length === 0) return
    for (const m of matched) for (const p of m.paths) if (containerPath(m.rule.rule, p) !== undefined) seen.get(service)!.add(p)
    const started = performance.now()
    if (matched.some((m) => m.rule.rule.action === 'rebuild')) return rebuild(service, started)
    const containers = [...states.values()].filter((s) => s.container.labels[LABEL.service] === service)
    const total: SyncResult = { sent: 0, removed: 0, deferred: 0 }
    for (const m of matched.filter((x) => x.rule.rule.action.startsWith('sync'))) {
      const entries = await entriesFor(m.rule, m.paths)
      await Promise.all(
        containers.map(async (state) => {
          try {
            add(total, await syncRule(ctx.engine, state, m.rule, entries))
          } catch (err) {
            fail(`${service}: sync to ${state.container.name}:${m.rule.rule.target} failed: ${(err as Error).message}; still watching`)
          }
        }),
      )
    }
    const restartNeeded = matched.some((m) => m.rule.rule.action === 'restart' || m.rule.rule.action === 'sync+restart')
    if (restartNeeded) {
      await ctx.restart(service)
      // Take the restart in as ours: its resync then finds nothing to send.
      await refresh()
    }
    const hooks = matched.filter((m) => m.rule.rule.action === 'sync+exec')
    for (const m of hooks) await runHook(service, m.rule, containers)
    const did = [total.sent + total.removed + total.deferred > 0 ? summary(total) : '', restartNeeded ? 'restarted' : '', hooks.length ? `ran ${plural(hooks.length, 'exec hook')}` : ''].filter(Boolean)
    if (did.length) say(`${service}: ${did.join(', ')} in ${elapsed(started)}`)
  }

  const runHook = async (service: string, rule: CompiledRule, containers: ContainerState[]) => {
    const hook = rule.rule.exec!
    for (const state of containers.filter((s) => isRunning(s.container))) {
      const result = await ctx.engine.exec(state.container.id, {
        argv: hook.command,
        ...(hook.user !== undefined ? { user: hook.user } : {}),
        ...(hook.privileged ? { privileged: true } : {}),
        ...(hook.working_dir !== undefined ? { workingDir: hook.working_dir } : {}),
        ...(hook.environment ? { env: hook.environment } : {}),
      })
      if (result.exitCode !== 0) fail(`${service}: exec hook "${hook.command.join(' ')}" in ${state.container.name} exited ${result.exitCode}${result.stderr?.trim() ? `: ${result.stderr.trim().split('\n').pop()}` : ''}; still watching`)
    }
  }

  /** `rebuild`: the image built, then only this service recreated (not its dependencies, not its dependents). */
  const rebuild = async (service: string, started: number) => {
    try {
      await ctx.rebuild(service)
    } catch (err) {
      return fail(`${service}: rebuild failed: ${(err as Error).message}; still watching`)
    }
    say(`${service}: rebuilt and recreated in ${elapsed(started)}`)
    // The new container gets, at once, what the host has that its image lacks.
    await refresh()
  }

  await refresh(true)
  const watcher = startWatcher({
    paths: [...new Set(options.rules.map((r) => r.rule.path))],
    skip: (path, isDir) => isDir && skipDirectory(options.rules, path),
    onBatch: (paths) => void enqueue('sync', () => handleBatch(paths)),
    // Events were lost: compare every container with the host.
    onOverflow: (reason) =>
      void enqueue('resync', async () => {
        fail(`file watching reported "${reason}": comparing every container with the host`)
        for (const state of states.values()) await syncAll(state, state.container.labels[LABEL.service], 'after a watcher overflow')
      }),
    ...(options.quietMs !== undefined ? { quietMs: options.quietMs } : {}),
    ...(options.maxMs !== undefined ? { maxMs: options.maxMs } : {}),
  })
  try {
    await watcher.ready
    options.onReady?.()
    // Until aborted: the engine polled for restarts and new containers.
    while (!ctx.signal?.aborted) {
      await sleep(options.pollMs ?? 500, ctx.signal)
      if (!ctx.signal?.aborted) await enqueue('following the containers', () => refresh())
    }
  } finally {
    await watcher.close()
    await queue
  }
}

function add(total: SyncResult, one: SyncResult): void {
  total.sent += one.sent
  total.removed += one.removed
  total.deferred += one.deferred
}

function summary(r: SyncResult): string {
  const parts = [`synced ${plural(r.sent, 'file')}`]
  if (r.removed) parts.push(`deleted ${r.removed}`)
  if (r.deferred) parts.push(`${r.deferred} deletes wait for the container to run`)
  return parts.join(', ')
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

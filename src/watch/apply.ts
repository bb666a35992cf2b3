import { lstat } from 'node:fs/promises'
import { posix } from 'node:path'
import { pack } from 'tar-stream'
import type { Container, Engine } from '../engine/engine.js'
import { containerPath, ruleMatches, type CompiledRule } from './rules.js'
import { containerSignatures, diff, readHost, record, removePaths, sendEntries, walk, type Changes, type HostEntry, type Signature } from './sync.js'

/**
 * The sync of one container: what the watch knows it holds, and the work of
 * bringing it level with the host, either for the paths of a batch or (a
 * resync) for every path of every sync rule.
 */

export interface ContainerState {
  container: Container
  /** Container path → signature of what the container is known to hold. */
  known: Map<string, Signature>
  /** `known` was read from the container (so a path it lacks is absent there). */
  full: boolean
  /** Deletes that could not run (the container was stopped): applied when it runs again. */
  pendingRemove: Set<string>
}

export const newState = (container: Container): ContainerState => ({ container, known: new Map(), full: false, pendingRemove: new Set() })

export interface SyncResult {
  sent: number
  removed: number
  /** Deletes left for when the container runs. */
  deferred: number
}

/** The host entries of `paths` under `rule`, a new directory with what is under it. */
export async function entriesFor(rule: CompiledRule, paths: string[]): Promise<HostEntry[]> {
  const found = new Map<string, string>()
  for (const host of paths) {
    const info = await lstat(host).catch(() => undefined)
    if (!ruleMatches(rule, host, !!info?.isDirectory())) continue
    for (const p of info?.isDirectory() ? await walk(host, (q, isDir) => ruleMatches(rule, q, isDir)) : [host]) {
      const container = containerPath(rule.rule, p)
      if (container !== undefined && !found.has(container)) found.set(container, p)
    }
  }
  // Read and hashed a few at a time: the reads wait on the disk, not on each other.
  const entries = await mapLimit([...found], 16, async ([container, host]): Promise<HostEntry> => {
    const read = await readHost(host)
    return { host, container, ...(read ? { signature: read.signature } : {}), ...(read?.content ? { content: read.content } : {}) }
  })
  return entries.sort((a, b) => (a.container < b.container ? -1 : 1))
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return out
}

/** Every host entry of a sync rule, plus those the session saw that are now gone. */
export async function allEntries(rule: CompiledRule, seen: Iterable<string>): Promise<HostEntry[]> {
  const present = await entriesFor(rule, [rule.rule.path])
  const have = new Set(present.map((e) => e.host))
  const gone = [...seen].filter((p) => !have.has(p) && containerPath(rule.rule, p) !== undefined && ruleMatches(rule, p))
  return [...present, ...gone.map((host) => ({ host, container: containerPath(rule.rule, host)! }))]
}

/** Reads what the container holds under each sync rule's target: the baseline of a new container. */
export async function readContainer(engine: Engine, state: ContainerState, rules: CompiledRule[]): Promise<void> {
  state.known = new Map()
  for (const rule of rules) {
    const wanted = (path: string) => {
      const rel = path === rule.rule.target ? '' : path.slice(rule.rule.target!.length + 1)
      return ruleMatches(rule, rel === '' ? rule.rule.path : `${rule.rule.path}/${rel}`)
    }
    for (const [k, v] of await containerSignatures(engine, state.container.id, rule.rule.target!, wanted)) state.known.set(k, v)
  }
  state.full = true
}

const running = (c: Container) => c.state === 'running' || c.state === 'restarting'

/**
 * Brings the container level with `entries` of one rule: sends what differs
 * from what it is known to hold, deletes what the host no longer has. A
 * delete the engine cannot do while the container is stopped waits in
 * `pendingRemove` until it runs (the embedded engine deletes at once).
 */
export async function syncRule(engine: Engine, state: ContainerState, rule: CompiledRule, entries: HostEntry[]): Promise<SyncResult> {
  // A path the container was never seen to hold is deleted anyway unless the container was read in full.
  // The target itself is never deleted (the rule's path gone, say, mid-checkout): it may hold what the image put there.
  entries = entries.filter((e) => e.signature !== undefined || e.container !== rule.rule.target)
  const known = state.full ? state.known : new Map([...state.known, ...entries.filter((e) => e.signature === undefined).map((e): [string, Signature] => [e.container, '?'])])
  const changes: Changes = diff(entries, known)
  // A path sent again is no longer to be deleted.
  for (const e of changes.send) state.pendingRemove.delete(e.container)
  const target = rule.rule.target!
  const isDirRule = (await lstat(rule.rule.path).catch(() => undefined))?.isDirectory() ?? true
  const dir = isDirRule ? target : posix.dirname(target)
  try {
    await sendInParallel(engine, state.container.id, dir, changes.send)
  } catch (err) {
    if ((err as { code?: string }).code !== 'not-found') throw err
    // The first sync into a container that lacks the target directory makes it.
    await makeDirectory(engine, state.container.id, dir, isDirRule ? rule.rule.path : undefined)
    await sendInParallel(engine, state.container.id, dir, changes.send)
  }
  record(state.known, { send: changes.send, remove: [] })
  const result: SyncResult = { sent: changes.send.length, removed: 0, deferred: 0 }
  if (changes.remove.length) {
    try {
      await removePaths(engine, state.container.id, changes.remove)
      record(state.known, { send: [], remove: changes.remove })
      result.removed = changes.remove.length
    } catch (err) {
      // An engine that deletes only in a running container: kept for when it runs again.
      if (running(state.container)) throw err
      for (const p of changes.remove) state.pendingRemove.add(p)
      result.deferred = changes.remove.length
    }
  }
  return result
}

/** The deletes a stopped container missed, now that it runs. */
export async function applyPending(engine: Engine, state: ContainerState): Promise<number> {
  const paths = [...state.pendingRemove].sort()
  if (paths.length === 0) return 0
  await removePaths(engine, state.container.id, paths)
  record(state.known, { send: [], remove: paths })
  state.pendingRemove.clear()
  return paths.length
}

/**
 * A large change as several archives unpacked side by side: unpacking waits
 * on the disk file by file, so four at once finish sooner. Directories go
 * first, in one archive, so the parallel ones never race to make a parent.
 */
async function sendInParallel(engine: Engine, id: string, dir: string, entries: HostEntry[]): Promise<void> {
  if (entries.length < 200) return sendEntries(engine, id, dir, entries)
  const dirs = entries.filter((e) => e.signature?.startsWith('d:'))
  const rest = entries.filter((e) => !e.signature?.startsWith('d:'))
  await sendEntries(engine, id, dir, dirs)
  const lanes = 4
  await Promise.all(Array.from({ length: lanes }, (_, lane) => sendEntries(engine, id, dir, rest.filter((_, i) => i % lanes === lane))))
}

/** The sync target directory, made in the container with the host directory's mode. */
async function makeDirectory(engine: Engine, id: string, dir: string, host: string | undefined): Promise<void> {
  const archive = pack()
  const info = host ? await lstat(host).catch(() => undefined) : undefined
  // Missing parents are made by the engine's unpacking (mode 0755), never through a link.
  archive.entry({ name: dir.replace(/^\/+/, ''), type: 'directory', mode: info ? info.mode & 0o7777 : 0o755, uid: info?.uid ?? 0, gid: info?.gid ?? 0 })
  archive.finalize()
  await engine.copyTo(id, '/', archive as unknown as NodeJS.ReadableStream)
}

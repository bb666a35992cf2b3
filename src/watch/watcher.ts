import { watch as chokidar, type FSWatcher } from 'chokidar'
import type { Stats } from 'node:fs'
import { basename, join } from 'node:path'

/**
 * One OS watcher over every rule's path, its events gathered into batches:
 * a batch is flushed once no event came for `quietMs`, or `maxMs` after its
 * first event, so a burst (a branch switch, a formatter over the tree)
 * becomes one sync and a single save is sent after only `quietMs`.
 * Compose waits 500 ms of quiet; 50 ms is enough to coalesce an editor's
 * write-rename-chmod sequence.
 */

export interface WatcherOptions {
  paths: string[]
  /** A directory for which this returns true gets no OS watch at all (node_modules). */
  skip: (path: string, isDir: boolean) => boolean
  onBatch: (paths: string[]) => void
  /** Events may have been lost (the watcher failed or overflowed): the caller compares everything. */
  onOverflow: (reason: string) => void
  quietMs?: number
  maxMs?: number
}

export interface Watcher {
  /** Resolves once the initial scan is done: changes after it are seen. */
  ready: Promise<void>
  close(): Promise<void>
}

export function startWatcher(options: WatcherOptions): Watcher {
  const quietMs = options.quietMs ?? 50
  const maxMs = options.maxMs ?? 250
  let pending = new Set<string>()
  let quiet: NodeJS.Timeout | undefined
  let cap: NodeJS.Timeout | undefined

  const flush = () => {
    clearTimeout(quiet)
    clearTimeout(cap)
    quiet = cap = undefined
    if (pending.size === 0) return
    const batch = [...pending]
    pending = new Set()
    options.onBatch(batch)
  }
  const seen = (path: string) => {
    pending.add(path)
    clearTimeout(quiet)
    quiet = setTimeout(flush, quietMs)
    cap ??= setTimeout(flush, maxMs)
  }

  const watcher: FSWatcher = chokidar(options.paths, {
    ignoreInitial: true,
    // Links inside the tree are synced as links: never followed, never watched through.
    followSymlinks: false,
    // A delete followed by a re-create is just two events here: the sync looks at what is on disk.
    atomic: false,
    // Chokidar calls this before descending: a skipped directory costs no inotify watch.
    ignored: (path: string, stats?: Stats) => (stats ? options.skip(path, stats.isDirectory()) : false),
  })
  for (const event of ['add', 'addDir', 'change', 'unlink', 'unlinkDir'] as const) watcher.on(event, (path: string) => seen(path))
  // Chokidar drops a file's events within 5 ms of the last and reports no chmod
  // (it compares mtimes): the OS's own events are taken too, so nothing is lost.
  // Looking at a path that did not change sends nothing.
  watcher.on('raw', (_event, name, details) => {
    const watched = (details as { watchedPath?: string } | undefined)?.watchedPath
    if (!watched || !name) return
    // A file's own watch names the file; a directory's names an entry of it (a/a is seen by chokidar's events).
    if (basename(watched) === name) seen(watched)
    else seen(join(watched, name))
  })
  watcher.on('error', (err: unknown) => options.onOverflow(err instanceof Error ? err.message : String(err)))
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    async close() {
      clearTimeout(quiet)
      clearTimeout(cap)
      await watcher.close()
    },
  }
}

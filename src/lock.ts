import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import lockfile from 'proper-lockfile'

/**
 * Runs `fn` holding the lock `<dir>/<name>.lock`, shared by every pier
 * process. The lock is a directory (proper-lockfile), refreshed every second
 * while held and stale after 3 s without refresh: a pier killed while
 * holding it delays the next one by 3 s at most. Held sections are short
 * (a few file operations, a bridge), far below that.
 */
export async function withFileLock<T>(dir: string, name: string, fn: () => Promise<T>): Promise<T> {
  // Callers in this process queue here, in order, and only the first of them
  // asks for the file lock: waiting on it is polling (10 to 50 ms a try), and
  // 30 starts of one `up` polling for one lock cost most of the `up`
  // (bench/RESULTS.md). Another process still waits on the file.
  const key = join(dir, name)
  const before = queues.get(key)
  let done!: () => void
  const mine = new Promise<void>((resolve) => (done = resolve))
  const tail = (before ?? Promise.resolve()).then(() => mine)
  queues.set(key, tail)
  try {
    await before
    return await withHeldFileLock(dir, name, fn)
  } finally {
    done()
    if (queues.get(key) === tail) queues.delete(key)
  }
}

/** The tail of each lock's queue of callers in this process. */
const queues = new Map<string, Promise<void>>()

async function withHeldFileLock<T>(dir: string, name: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true })
  // The lock's target is a path per name (it need not exist): proper-lockfile
  // tracks held locks by target, so two names on one directory must not share one.
  const release = await lockfile.lock(join(dir, name), {
    stale: 3_000,
    update: 1_000,
    retries: { retries: 1000, minTimeout: 10, maxTimeout: 50, factor: 1.2 },
    realpath: false,
    // A lock taken over while held (this process stalled past the stale time)
    // is reported by release(); crashing from a timer would leave more half-done.
    onCompromised: () => undefined,
  })
  try {
    return await fn()
  } finally {
    await release().catch(() => undefined)
  }
}

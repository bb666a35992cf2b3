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

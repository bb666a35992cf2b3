import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import lockfile from 'proper-lockfile'

/**
 * Runs `fn` holding the lock `<dir>/<name>.lock`, shared by every pier
 * process. The lock is a directory (proper-lockfile), refreshed while held
 * and stale after 10 s without refresh, so a pier killed while holding it
 * does not block the next one.
 */
export async function withFileLock<T>(dir: string, name: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true })
  // The lock's target is a path per name (it need not exist): proper-lockfile
  // tracks held locks by target, so two names on one directory must not share one.
  const release = await lockfile.lock(join(dir, name), {
    stale: 10_000,
    update: 2_000,
    retries: { retries: 600, minTimeout: 10, maxTimeout: 100, factor: 1.2 },
    realpath: false,
  })
  try {
    return await fn()
  } finally {
    await release()
  }
}

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import lockfile from 'proper-lockfile'

/**
 * The embedded engine's state directory: `/var/lib/pier`, or PIER_ROOT.
 * Everything is written there atomically (a temporary file or directory in
 * `tmp/`, then a rename), and index updates happen under a lock shared by
 * every pier process on this root.
 */
export class Root {
  readonly dir: string

  constructor(dir = process.env.PIER_ROOT || '/var/lib/pier') {
    this.dir = dir
    for (const sub of ['tmp', 'images/blobs/sha256', 'images/layers']) mkdirSync(join(dir, sub), { recursive: true })
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts)
  }

  /** A fresh path in tmp/ for staging; on the same filesystem, so a rename finishes the write. */
  temp(label: string): string {
    return join(this.dir, 'tmp', `${label}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`)
  }

  /**
   * Runs `fn` holding the root's lock for `name`. The lock is a directory
   * (proper-lockfile), refreshed while held and considered stale after 10 s
   * without refresh, so a pier killed while holding it does not block the next.
   */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const release = await lockfile.lock(this.dir, {
      lockfilePath: join(this.dir, `${name}.lock`),
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
}

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { withFileLock } from '../../lock.js'

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

  /** Runs `fn` holding the root's lock for `name` (see withFileLock). */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.dir, name, fn)
  }
}

import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * A small content-addressed cache for pure, costly steps of loading (parsing
 * YAML, validating against the schema). An entry's key is a hash of
 * everything its result depends on, so an entry is never stale: a changed
 * input is simply another key. Set PIER_NO_CACHE=1 to bypass it; the
 * directory is PIER_CACHE_DIR, else $XDG_CACHE_HOME/pier, else ~/.cache/pier.
 * Failing to read or write it only costs time, never correctness.
 */

/** Bump when the shape of cached results changes. */
const FORMAT = '1'
const KEEP_PER_KIND = 256

export function cacheKey(...parts: string[]): string {
  const hash = createHash('sha256')
  hash.update(FORMAT)
  for (const part of parts) hash.update('\0').update(part)
  return hash.digest('hex')
}

function directory(kind: string): string | undefined {
  if (process.env.PIER_NO_CACHE === '1') return undefined
  const base = process.env.PIER_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pier')
  return join(base, kind)
}

export function cacheGet(kind: string, key: string): string | undefined {
  const dir = directory(kind)
  if (!dir) return undefined
  try {
    return readFileSync(join(dir, key), 'utf8')
  } catch {
    return undefined
  }
}

/** Whether an entry exists, without reading it. */
export function cacheHas(kind: string, key: string): boolean {
  const dir = directory(kind)
  return dir !== undefined && existsSync(join(dir, key))
}

export function cachePut(kind: string, key: string, value: string): void {
  const dir = directory(kind)
  if (!dir) return
  try {
    mkdirSync(dir, { recursive: true })
    // Write then rename, so a concurrent reader sees the whole entry or none.
    const temp = join(dir, `.${key}.${process.pid}.tmp`)
    writeFileSync(temp, value)
    renameSync(temp, join(dir, key))
    if (Math.random() < 0.05) prune(dir)
  } catch {
    // A read-only or full disk only makes the next load slower.
  }
}

/** Keeps the most recently written entries of a kind. */
function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)
  for (const entry of entries.slice(KEEP_PER_KIND)) unlinkSync(join(dir, entry.name))
}

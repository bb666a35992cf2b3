import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

/**
 * Reading the files a project names (compose files, .env, env_file,
 * label_file). Only regular files are read, and only up to a cap: a path to
 * /dev/zero, a FIFO or a runaway generated file must end in one error line,
 * not in a process that reads until it runs out of memory.
 */

/** Compose files are kilobytes; the largest generated ones seen are a few MiB. */
export const MAX_COMPOSE_FILE = 32 * 1024 * 1024
/** Env and label files: the cap the issue tracker agreed on (16 MiB). */
export const MAX_ENV_FILE = 16 * 1024 * 1024

export type ReadProblem = 'missing' | 'directory' | 'not-regular' | 'too-large' | 'unreadable'

export class ReadError extends Error {
  constructor(readonly problem: ReadProblem, message: string) {
    super(message)
  }
}

/** What to say about a problem, in words a user can act on. */
export function describeProblem(problem: ReadProblem, limit: number): string {
  switch (problem) {
    case 'missing': return 'not found'
    case 'directory': return 'is a directory, not a file'
    case 'not-regular': return 'is not a regular file (a device, FIFO or socket cannot be read as one)'
    case 'too-large': return `is larger than ${limit / 1024 / 1024} MiB`
    default: return 'cannot be read'
  }
}

/** Reads a regular file as UTF-8, refusing anything else and anything over `limit` bytes. */
export function readRegularFile(path: string, limit: number): string {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err: any) {
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') throw new ReadError('missing', err.message)
    if (err?.code === 'EISDIR') throw new ReadError('directory', err.message)
    throw new ReadError('unreadable', err?.message ?? String(err))
  }
  try {
    // fstat on the open descriptor: what is checked is what is read.
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw new ReadError('directory', path)
    if (!stat.isFile()) throw new ReadError('not-regular', path)
    if (stat.size > limit) throw new ReadError('too-large', path)
    const buffer = Buffer.alloc(stat.size)
    let read = 0
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, null)
      if (n === 0) break
      read += n
    }
    return buffer.toString('utf8', 0, read)
  } finally {
    closeSync(fd)
  }
}

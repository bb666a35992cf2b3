import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, type Stats } from 'node:fs'
import { EngineError } from '../../errors.js'

/**
 * Host-side access to a container's files (its root filesystem, upper
 * directory, an image layer or a volume). What is in there belongs to the
 * image or to the container, which may make any path a symlink, so no path
 * is ever handed to the host's resolution as is: `/etc/host.conf -> /etc/shadow`
 * would read the host's shadow file.
 */

/**
 * `path` inside `root` as the host path it resolves to there (links followed
 * as if `root` were `/`, as openat2(RESOLVE_IN_ROOT) does; see openInRoot),
 * or undefined when nothing is there. The result names no link, but a
 * running container can change it after this returns: where that matters,
 * use the descriptor openInRoot gives.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  const fd = openInRoot(root, path)
  if (fd === undefined) return undefined
  try {
    return readlinkSync(`/proc/self/fd/${fd}`)
  } finally {
    closeSync(fd)
  }
}

/**
 * Opens `path` inside `root` as openat2(RESOLVE_IN_ROOT) would, one
 * component at a time through the directory already opened
 * (`/proc/self/fd/N/name`, O_NOFOLLOW), so a container changing its files
 * meanwhile cannot redirect the walk: a link is read and its target walked
 * again from the root (absolute) or from where it is (relative). Undefined
 * when there is nothing there. The caller closes the descriptor.
 *
 * Synchronous: each step is a system call on a local directory that
 * returns at once, and every start makes three of these walks (passwd,
 * group, host.conf); through the promise API each step was a trip through
 * libuv's thread pool and a FileHandle to collect, behind the other starts'
 * trips (bench/RESULTS.md).
 */
export function openInRoot(root: string, path: string): number | undefined {
  const stack: number[] = [openSync(root, constants.O_RDONLY | constants.O_DIRECTORY)]
  const pending = path.split('/').filter(Boolean)
  let hops = 0
  try {
    while (pending.length) {
      const part = pending.shift()!
      if (part === '.') continue
      if (part === '..') {
        if (stack.length > 1) closeSync(stack.pop()!)
        continue
      }
      const entry = `/proc/self/fd/${stack.at(-1)!}/${part}`
      let info: Stats
      try {
        info = lstatSync(entry)
      } catch {
        return undefined
      }
      if (info.isSymbolicLink()) {
        if (++hops > 40) throw new EngineError('invalid', `too many levels of symbolic links in ${path}`)
        const target = readlinkSync(entry)
        if (target.startsWith('/')) while (stack.length > 1) closeSync(stack.pop()!)
        pending.unshift(...target.split('/').filter(Boolean))
        continue
      }
      // O_NOFOLLOW: had the entry become a link since the lstat, this fails rather than follows it.
      let fd: number
      try {
        fd = openSync(entry, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (pending.length ? constants.O_DIRECTORY : 0))
      } catch {
        return undefined
      }
      stack.push(fd)
    }
    return stack.pop()
  } finally {
    for (const fd of stack) closeSync(fd)
  }
}

/**
 * The content of a regular file at `path` inside `root`, or undefined when
 * there is none (or it is a device, a fifo or larger than `maxBytes`: a
 * container file is configuration here, never a stream to block on).
 */
export function readInRoot(root: string, path: string, maxBytes = 1 << 20): string | undefined {
  const fd = openInRoot(root, path)
  if (fd === undefined) return undefined
  try {
    const info = fstatSync(fd)
    if (!info.isFile() || info.size > maxBytes) return undefined
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}

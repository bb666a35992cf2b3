import { constants } from 'node:fs'
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises'
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
 * use the handle openInRoot gives.
 */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  const handle = await openInRoot(root, path)
  if (!handle) return undefined
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`)
  } finally {
    await handle.close()
  }
}

/**
 * Opens `path` inside `root` as openat2(RESOLVE_IN_ROOT) would, one
 * component at a time through the directory already opened
 * (`/proc/self/fd/N/name`, O_NOFOLLOW), so a container changing its files
 * meanwhile cannot redirect the walk: a link is read and its target walked
 * again from the root (absolute) or from where it is (relative). Undefined
 * when there is nothing there. The caller closes the handle.
 */
export async function openInRoot(root: string, path: string): Promise<FileHandle | undefined> {
  const stack: FileHandle[] = [await open(root, constants.O_RDONLY | constants.O_DIRECTORY)]
  const pending = path.split('/').filter(Boolean)
  let hops = 0
  try {
    while (pending.length) {
      const part = pending.shift()!
      if (part === '.') continue
      if (part === '..') {
        if (stack.length > 1) await stack.pop()!.close()
        continue
      }
      const entry = `/proc/self/fd/${stack.at(-1)!.fd}/${part}`
      const info = await lstat(entry).catch(() => undefined)
      if (!info) return undefined
      if (info.isSymbolicLink()) {
        if (++hops > 40) throw new EngineError('invalid', `too many levels of symbolic links in ${path}`)
        const target = await readlink(entry)
        if (target.startsWith('/')) while (stack.length > 1) await stack.pop()!.close()
        pending.unshift(...target.split('/').filter(Boolean))
        continue
      }
      // O_NOFOLLOW: had the entry become a link since the lstat, this fails rather than follows it.
      const handle = await open(entry, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (pending.length ? constants.O_DIRECTORY : 0)).catch(() => undefined)
      if (!handle) return undefined
      stack.push(handle)
    }
    return stack.pop()
  } finally {
    for (const h of stack) await h.close()
  }
}

/**
 * The content of a regular file at `path` inside `root`, or undefined when
 * there is none (or it is a device, a fifo or larger than `maxBytes`: a
 * container file is configuration here, never a stream to block on).
 */
export async function readInRoot(root: string, path: string, maxBytes = 1 << 20): Promise<string | undefined> {
  const handle = await openInRoot(root, path)
  if (!handle) return undefined
  try {
    const info = await handle.stat()
    if (!info.isFile() || info.size > maxBytes) return undefined
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

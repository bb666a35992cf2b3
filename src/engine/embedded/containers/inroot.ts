import { constants } from 'node:fs'
import { lstat, open, readlink } from 'node:fs/promises'
import { EngineError } from '../../errors.js'

/**
 * Host-side access to a container's files (its root filesystem, upper
 * directory, an image layer or a volume). What is in there belongs to the
 * image or to the container, which may make any path a symlink, so no path
 * is ever handed to the host's resolution as is: `/etc/host.conf -> /etc/shadow`
 * would read the host's shadow file.
 */

/**
 * `path` as a host path under `root`, resolved component by component with
 * lstat, links followed as if `root` were `/` (an absolute target starts
 * again at `root`, `..` stops there), as openat2(RESOLVE_IN_ROOT) does. The
 * result names no link (unless a link's target is missing: then the path
 * where the target would be). A running container can change a component
 * between this walk and the caller's use: callers open the result with
 * O_NOFOLLOW, so the last component cannot be swapped for a link.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const pending = path.split('/').filter(Boolean)
  const done: string[] = []
  let hops = 0
  while (pending.length) {
    const part = pending.shift()!
    if (part === '.') continue
    if (part === '..') {
      done.pop()
      continue
    }
    const host = `${root}/${[...done, part].join('/')}`
    const info = await lstat(host).catch(() => undefined)
    if (info?.isSymbolicLink()) {
      if (++hops > 40) throw new EngineError('invalid', `too many levels of symbolic links in ${path}`)
      const target = await readlink(host)
      if (target.startsWith('/')) done.length = 0
      pending.unshift(...target.split('/').filter(Boolean))
      continue
    }
    done.push(part)
  }
  return done.length ? `${root.replace(/\/+$/, '')}/${done.join('/')}` : root
}

/**
 * The content of a regular file at `path` inside `root`, or undefined when
 * there is none (or it is a device, a fifo or larger than `maxBytes`: a
 * container file is configuration here, never a stream to block on).
 */
export async function readInRoot(root: string, path: string, maxBytes = 1 << 20): Promise<string | undefined> {
  const host = await resolveInRoot(root, path)
  const handle = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined)
  if (!handle) return undefined
  try {
    const info = await handle.stat()
    if (!info.isFile() || info.size > maxBytes) return undefined
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

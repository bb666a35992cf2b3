import { lstat, readlink } from 'node:fs/promises'
import { EngineError } from '../../errors.js'

/** As Linux's MAXSYMLINKS: more links than this on one path is a loop. */
const MAX_LINKS = 40

export interface ResolveOptions {
  /** Follow a symlink in the last component too (default). Off, the link itself is named, as lstat would. */
  followLast?: boolean
  /** Names the tree in errors ("the build context", "the container"). */
  what?: string
}

/** A file system mounted into the tree: `target` a path in the tree, `source` the host path it shows. */
export interface MountPoint {
  target: string
  source: string
}

export interface Resolved<M extends MountPoint> {
  /** The host path. */
  host: string
  /** The path as the tree sees it, absolute, links resolved. */
  path: string
  /** The mount the path is on (the longest target that holds it), if any. */
  mount?: M
}

/**
 * A path inside `root` as a host path under it, with the semantics of
 * openat2's RESOLVE_IN_ROOT: the walk goes component by component with lstat,
 * a symlink's target is read and walked in its place, an absolute target
 * starts again at `root` and `..` stops at `root`. So whatever the links in
 * the tree say (`link -> /etc`, `up -> ../../..`), the result names a path
 * under `root`, the way the tree's own processes would see it.
 *
 * Components that do not exist are kept as written: the caller gets the path
 * it would create. The check is as good as the tree is still: a tree that
 * changes under the walk (a running container) can race it, so writers must
 * still create entries without following links (O_EXCL, lstat, no O_CREAT
 * through an existing name).
 */
export async function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): Promise<string> {
  return (await resolveInMounts(root, [], path, options)).host
}

/**
 * resolveInRoot over a tree with file systems mounted into it, as a
 * container's processes see it: at each step the path is looked up on the
 * mount with the longest target that holds it (the root file system when
 * none does), and a link read there is walked in the tree's terms again, so
 * it may lead from a volume back to the root file system or into another
 * mount, never out of the tree.
 */
export async function resolveInMounts<M extends MountPoint>(root: string, mounts: M[], path: string, options: ResolveOptions = {}): Promise<Resolved<M>> {
  const followLast = options.followLast ?? true
  const table = mounts.map((m) => ({ mount: m, parts: split(m.target) })).sort((a, b) => b.parts.length - a.parts.length)
  const locate = (parts: string[]) => {
    const on = table.find((t) => t.parts.length <= parts.length && t.parts.every((p, i) => parts[i] === p))
    const rest = parts.slice(on?.parts.length ?? 0)
    const base = on ? on.mount.source : root
    return { host: rest.length ? `${base === '/' ? '' : base}/${rest.join('/')}` : base, mount: on?.mount }
  }
  const pending = split(path)
  const done: string[] = []
  let links = 0
  while (pending.length) {
    const part = pending.shift()!
    if (part === '..') {
      done.pop()
      continue
    }
    const host = locate([...done, part]).host
    const info = pending.length || followLast ? await lstat(host).catch(() => undefined) : undefined
    if (info?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new EngineError('invalid', `too many levels of symbolic links in ${path}${options.what ? ` in ${options.what}` : ''}`)
      const target = await readlink(host)
      if (target.startsWith('/')) done.length = 0
      pending.unshift(...split(target))
      continue
    }
    done.push(part)
  }
  return { ...locate(done), path: `/${done.join('/')}` }
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.')
}

/**
 * The clean relative form of `path` if it stays inside its root when taken
 * lexically (a leading `/` dropped, `.` and empty components removed), or
 * undefined when a `..` climbs above the start. For names that are never
 * resolved through links (tar entries, a build's COPY sources before lookup).
 */
export function lexicalInside(path: string): string | undefined {
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length === 0) return undefined
      out.pop()
    } else out.push(part)
  }
  return out.join('/')
}

import { lstat, open, readdir, readlink, stat } from 'node:fs/promises'
import { posix } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { constants } from 'node:fs'
import tar from 'tar-stream'
import { EngineError } from '../../errors.js'
import { extractLayer } from '../images/extract.js'
import type { Mount } from '../../engine.js'
import { resolveInMounts, resolveInRoot, type MountPoint } from '../fs/resolve.js'
import { addTarEntry } from '../tar-entry.js'

/** A mount of the container as a copy sees it: where it shows in the container, the host path behind it. */
export interface CopyMount extends MountPoint {
  type: Mount['type']
  readOnly: boolean
}

/**
 * The container's mounts with the host paths behind them, as `docker cp`
 * sees them: a volume's directory (its subpath resolved inside it), a bind's
 * source, a secret's file. A tmpfs has none: it lives in the running
 * container only. A volume that no longer exists shows the root file system.
 */
export async function hostMounts(mounts: Mount[], volumePath: (name: string) => Promise<string | undefined>): Promise<CopyMount[]> {
  const out: CopyMount[] = []
  for (const m of mounts) {
    if (m.type === 'volume') {
      const dir = await volumePath(m.source)
      if (dir) out.push({ type: m.type, target: m.target, source: m.subpath ? await resolveInRoot(dir, m.subpath) : dir, readOnly: m.readOnly })
    } else if (m.type === 'tmpfs') out.push({ type: m.type, target: m.target, source: '', readOnly: false })
    else out.push({ type: m.type, target: m.target, source: m.source, readOnly: m.type === 'file' || m.readOnly })
  }
  return out
}

/**
 * A tar stream of `path` in the container, its last component (or `name`)
 * as the top entry (as `docker cp` gives it), read from the mount that holds
 * it or else the root file system. With root `/`, of a host path.
 */
export async function copyFrom(root: string, path: string, name?: string, mounts: CopyMount[] = []): Promise<Readable> {
  const { host: source, mount, path: at } = await resolveInMounts(root, mounts, path)
  unreachable(path, mount)
  const info = await stat(source).catch(() => undefined)
  if (!info) throw new EngineError('not-found', `no such file or directory in the container: ${path}`)
  const pack = tar.pack()
  const out = new PassThrough()
  pack.pipe(out)
  // A reader may stop early (cp reading only the first entry): the pack just ends.
  pack.on('error', () => undefined)
  const base = name ?? (posix.basename(path.replace(/\/+$/, '')) || '.')
  void (async () => {
    try {
      await addEntry(pack, source, base, at, mounts)
      pack.finalize()
    } catch (err) {
      out.destroy(err as Error)
    }
  })()
  return out
}

/**
 * Packs `host` (the container's `at`) as `name`, and a directory's children:
 * a child that is a mount's target is packed from the mount, as the container
 * sees it (a tmpfs, out of reach, is left out).
 */
async function addEntry(pack: tar.Pack, host: string, name: string, at: string, mounts: CopyMount[]): Promise<void> {
  const info = await lstat(host)
  const header = { name, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid, mtime: info.mtime }
  if (info.isDirectory()) {
    await addTarEntry(pack, { ...header, type: 'directory' })
    for (const child of (await readdir(host)).sort()) {
      const childAt = posix.join(at, child)
      const mount = mounts.find((m) => posix.normalize(`/${m.target}`).replace(/(.)\/+$/, '$1') === childAt)
      if (mount?.type === 'tmpfs') continue
      await addEntry(pack, mount ? mount.source : `${host}/${child}`, `${name}/${child}`, childAt, mounts)
    }
  } else if (info.isSymbolicLink()) {
    await addTarEntry(pack, { ...header, type: 'symlink', linkname: await readlink(host) })
  } else if (info.isFile()) {
    // O_NOFOLLOW: a file the container swapped for a link since the lstat is refused, not followed.
    const file = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW)
    await addTarEntry(pack, { ...header, type: 'file', size: info.size }, file.createReadStream())
  }
}

/**
 * Unpacks a tar stream into directory `dir` of the container, with the same
 * containment as layers, but `.wh.` names are plain files: `docker cp` does
 * not interpret whiteouts, and a whiteout here would delete, not hide.
 */
export async function copyTo(root: string, dir: string, archive: Readable, mounts: CopyMount[] = []): Promise<void> {
  const { host: target, mount, path } = await resolveInMounts(root, mounts, dir)
  unreachable(dir, mount)
  if (mount?.readOnly) throw new EngineError('invalid', `${dir} is on the read-only ${mount.type} mount at ${mount.target}: pier cp cannot write there`)
  const info = await stat(target).catch(() => undefined)
  if (!info?.isDirectory()) throw new EngineError('not-found', `no such directory in the container: ${dir}`)
  // Entries under a mount below the destination would land in the file system it covers, unseen:
  // refused, since unpacking follows no mount part-way (copy into the mount's own path instead).
  const below = mounts.filter((m) => m !== mount && inside(path, m.target))
  const admit = (rel: string) => {
    const at = posix.join(path, rel)
    const covered = below.find((m) => inside(m.target, at))
    if (covered) throw new EngineError('unsupported', `${at} is on the ${covered.type} mount at ${covered.target}, below the destination ${dir}: copy into ${covered.target} itself`)
  }
  await extractLayer(archive, target, { whiteouts: false, admit })
}

/** Whether container path `path` is `dir` or under it. */
function inside(dir: string, path: string): boolean {
  const d = posix.normalize(`/${dir}`).replace(/\/+$/, '')
  const p = posix.normalize(`/${path}`)
  return p === d || p.startsWith(`${d}/`) || d === ''
}

function unreachable(path: string, mount: CopyMount | undefined): void {
  if (mount?.type === 'tmpfs') throw new EngineError('unsupported', `${path} is on the tmpfs mount at ${mount.target}, which lives only inside the running container: pier cp cannot reach it (pier exec with tar can)`)
}

import { lstat, readdir, readlink, stat } from 'node:fs/promises'
import { posix } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { createReadStream } from 'node:fs'
import tar from 'tar-stream'
import { EngineError } from '../../errors.js'
import { extractLayer } from '../images/extract.js'
import { resolveInRoot } from '../fs/resolve.js'
import { addTarEntry } from '../tar-entry.js'

/**
 * A tar stream of `path` in the container, its last component (or `name`)
 * as the top entry (as `docker cp` gives it). With root `/`, of a host path.
 */
export async function copyFrom(root: string, path: string, name?: string): Promise<Readable> {
  const source = await resolveInRoot(root, path)
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
      await addEntry(pack, source, base)
      pack.finalize()
    } catch (err) {
      out.destroy(err as Error)
    }
  })()
  return out
}

async function addEntry(pack: tar.Pack, host: string, name: string): Promise<void> {
  const info = await lstat(host)
  const header = { name, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid, mtime: info.mtime }
  if (info.isDirectory()) {
    await addTarEntry(pack, { ...header, type: 'directory' })
    for (const child of (await readdir(host)).sort()) await addEntry(pack, `${host}/${child}`, `${name}/${child}`)
  } else if (info.isSymbolicLink()) {
    await addTarEntry(pack, { ...header, type: 'symlink', linkname: await readlink(host) })
  } else if (info.isFile()) {
    await addTarEntry(pack, { ...header, type: 'file', size: info.size }, createReadStream(host))
  }
}

/**
 * Unpacks a tar stream into directory `dir` of the container, with the same
 * containment as layers, but `.wh.` names are plain files: `docker cp` does
 * not interpret whiteouts, and a whiteout here would delete, not hide.
 */
export async function copyTo(root: string, dir: string, archive: Readable): Promise<void> {
  const target = await resolveInRoot(root, dir)
  const info = await stat(target).catch(() => undefined)
  if (!info?.isDirectory()) throw new EngineError('not-found', `no such directory in the container: ${dir}`)
  await extractLayer(archive, target, { whiteouts: false })
}

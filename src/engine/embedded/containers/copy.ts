import { lstat, readdir, readlink, stat } from 'node:fs/promises'
import { posix } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { createReadStream } from 'node:fs'
import tar from 'tar-stream'
import { EngineError } from '../../errors.js'
import { extractLayer } from '../images/extract.js'
import { addTarEntry } from '../tar-entry.js'

/**
 * A path inside a container as a host path under its root filesystem,
 * following symlinks the way the container would (an absolute link starts
 * again at the container's root, `..` stops there), so that no link a
 * container made can lead a copy outside it.
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
      if (++hops > 40) throw new EngineError('invalid', `too many symlinks in ${path}`)
      const target = await readlink(host)
      if (target.startsWith('/')) done.length = 0
      pending.unshift(...target.split('/').filter(Boolean))
      continue
    }
    done.push(part)
  }
  return done.length ? `${root}/${done.join('/')}` : root
}

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

/** Unpacks a tar stream into directory `dir` of the container, with the same containment as layers. */
export async function copyTo(root: string, dir: string, archive: Readable): Promise<void> {
  const target = await resolveInRoot(root, dir)
  const info = await stat(target).catch(() => undefined)
  if (!info?.isDirectory()) throw new EngineError('not-found', `no such directory in the container: ${dir}`)
  await extractLayer(archive, target)
}

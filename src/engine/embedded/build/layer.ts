import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { lstat, open, readdir, readlink } from 'node:fs/promises'
import { join, posix } from 'node:path'
import type { Readable } from 'node:stream'
import { promisify } from 'node:util'
import tar from 'tar-stream'
import { EngineError } from '../../errors.js'
import { addTarEntry } from '../tar-entry.js'

const exec = promisify(execFile)

/** One entry of a layer being written: `source` on the host, `name` in the image (no leading slash). */
export interface LayerEntry {
  name: string
  source?: string
  type: 'file' | 'directory' | 'symlink' | 'whiteout'
  mode?: number
  uid?: number
  gid?: number
  mtime?: Date
  linkname?: string
  /** A file's content given here rather than read from `source` (a COPY heredoc). */
  content?: Buffer
}

/** Streams a layer tar of `entries`, in order (parents first). */
export function layerTar(entries: LayerEntry[]): Readable {
  const pack = tar.pack()
  void (async () => {
    try {
      for (const e of entries) {
        const header = { name: e.name, mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? new Date(0) }
        if (e.type === 'directory') await addTarEntry(pack, { ...header, type: 'directory' })
        else if (e.type === 'symlink') await addTarEntry(pack, { ...header, type: 'symlink', linkname: e.linkname! })
        else if (e.type === 'whiteout') await addTarEntry(pack, { ...header, name: posix.join(posix.dirname(e.name), `.wh.${posix.basename(e.name)}`), type: 'file', size: 0 }, Buffer.alloc(0))
        else if (e.content !== undefined) await addTarEntry(pack, { ...header, type: 'file', size: e.content.length }, e.content)
        else {
          const size = (await lstat(e.source!)).size
          // O_NOFOLLOW: a file swapped for a link since it was listed is refused, not followed out of the context.
          await addTarEntry(pack, { ...header, type: 'file', size }, (await open(e.source!, constants.O_RDONLY | constants.O_NOFOLLOW)).createReadStream())
        }
      }
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  return pack as unknown as Readable
}

/** What a walk leaves out: `.dockerignore`'s rules, with the walked directory's path in the context. */
export interface WalkFilter {
  ignored(rel: string): boolean
  hasExceptions: boolean
  /** The walked directory, relative to the context. */
  base: string
}

/**
 * Entries for everything under `dir`, named under `prefix`, parents before
 * children, less what `filter` ignores. An ignored directory is entered
 * only when a `!` pattern may re-include something in it, and kept only
 * when something was.
 */
export async function treeEntries(dir: string, prefix: string, filter?: WalkFilter): Promise<LayerEntry[]> {
  const walk = async (path: string, name: string, rel: string): Promise<LayerEntry[]> => {
    const out: LayerEntry[] = []
    for (const child of (await readdir(path)).sort()) {
      const full = join(path, child)
      const childName = name ? `${name}/${child}` : child
      const childRel = rel ? `${rel}/${child}` : child
      const isDir = (await lstat(full)).isDirectory()
      if (filter?.ignored(childRel)) {
        if (!isDir || !filter.hasExceptions) continue
        const inside = await walk(full, childName, childRel)
        if (inside.length) out.push(await entryOf(full, childName), ...inside)
        continue
      }
      out.push(await entryOf(full, childName))
      if (isDir) out.push(...(await walk(full, childName, childRel)))
    }
    return out
  }
  return walk(dir, prefix, filter?.base ?? '')
}

export async function entryOf(path: string, name: string): Promise<LayerEntry> {
  const s = await lstat(path)
  const base = { name, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: s.mtime }
  if (s.isDirectory()) return { ...base, type: 'directory' }
  if (s.isSymbolicLink()) return { ...base, type: 'symlink', linkname: await readlink(path) }
  if (s.isFile()) return { ...base, type: 'file', source: path }
  if (s.isCharacterDevice() && s.rdev === 0) return { ...base, type: 'whiteout' }
  throw new EngineError('unsupported', `${path} is a ${s.isSocket() ? 'socket' : s.isFIFO() ? 'fifo' : 'device'}, which cannot go into a layer: move it out of the build context or COPY paths that leave it out`)
}

/**
 * The changes a RUN made, from the overlay's upper directory, as layer
 * entries: files as they are, the overlay's whiteouts (0/0 character devices)
 * as `.wh.` files, opaque directories (trusted.overlay.opaque=y) with a
 * `.wh..wh..opq` marker. Mount points the runtime made for the run itself
 * (empty /proc, /sys, /dev and the bind-mounted /etc files) are left out.
 */
export async function upperEntries(upper: string, mountPoints: string[]): Promise<LayerEntry[]> {
  const opaque = new Set<string>()
  const { stdout } = await exec('getfattr', ['-R', '-h', '--absolute-names', '-n', 'trusted.overlay.opaque', upper]).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  for (const line of stdout.split('\n')) if (line.startsWith('# file: ')) opaque.add(line.slice('# file: '.length).slice(upper.length + 1))
  const entries: LayerEntry[] = []
  for (const e of await treeEntries(upper, '')) {
    if (mountPoints.includes(e.name) && (await isEmpty(join(upper, e.name)))) continue
    entries.push(e)
    if (e.type === 'directory' && opaque.has(e.name)) entries.push({ name: `${e.name}/.wh..wh..opq`, type: 'file', source: '/dev/null', mode: 0o644 })
  }
  return entries
}

async function isEmpty(path: string): Promise<boolean> {
  const s = await lstat(path)
  if (s.isDirectory()) return (await readdir(path)).length === 0
  return s.isFile() && s.size === 0
}

import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { chmod, lchown, link, lstat, lutimes, mkdir, rm, symlink } from 'node:fs/promises'
import { posix } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import tar from 'tar-stream'
import { EngineError } from '../../errors.js'

const run = promisify(execFile)

export interface ExtractResult {
  entries: number
  /** Bytes of regular file content written. */
  bytes: number
  /** Device nodes in the layer, not created: a container's /dev comes from the runtime. */
  skippedDevices: number
}

const WHITEOUT = '.wh.'
const OPAQUE = '.wh..wh..opq'

/**
 * Unpacks one uncompressed layer tar into `dest`, as an overlayfs lower
 * layer: `.wh.NAME` becomes a whiteout (a 0/0 character device) and
 * `.wh..wh..opq` marks its directory opaque (trusted.overlay.opaque=y).
 *
 * Containment, so a hostile layer cannot touch the host:
 * - an entry whose path climbs out with `..` is refused; a leading `/` is
 *   dropped (the path is taken inside the layer);
 * - nothing is ever written through a symlink: every parent directory of an
 *   entry is checked to be a real directory inside `dest`, and an existing
 *   entry is removed, never opened, before a new one takes its place;
 * - a hard link must name a file already in this layer, by a path that stays
 *   inside it;
 * - symlinks are created as written: their targets are only ever resolved
 *   inside the container, where `..` stops at the root;
 * - device nodes are skipped.
 */
export async function extractLayer(input: Readable, dest: string): Promise<ExtractResult> {
  const extract = tar.extract()
  const result: ExtractResult = { entries: 0, bytes: 0, skippedDevices: 0 }
  const dirTimes: [string, Date][] = []
  const feeding = pipeline(input, extract).catch((err) => {
    extract.destroy(err)
    throw err
  })
  try {
    await unpackEntries(extract, dest, result, dirTimes)
  } catch (err) {
    // The feeding pipeline fails too once the extractor is gone; that failure says nothing new.
    await feeding.catch(() => undefined)
    throw err
  }
  await feeding
  // Directory times last: creating their entries changed them.
  for (const [dir, time] of dirTimes.reverse()) await lutimes(dir, time, time)
  return result
}

async function unpackEntries(extract: tar.Extract, dest: string, result: ExtractResult, dirTimes: [string, Date][]): Promise<void> {
  for await (const entry of extract) {
    const header = entry.header
    result.entries++
    const rel = inside(header.name)
    if (rel === '') {
      entry.resume()
      continue
    }
    const base = posix.basename(rel)
    const parent = posix.dirname(rel)
    await ensureParents(dest, parent)

    if (base === OPAQUE) {
      await setxattr(join(dest, parent), 'trusted.overlay.opaque', 'y')
      entry.resume()
      continue
    }
    if (base.startsWith(WHITEOUT)) {
      const target = join(dest, parent === '.' ? base.slice(WHITEOUT.length) : posix.join(parent, base.slice(WHITEOUT.length)))
      await removeExisting(target)
      await run('mknod', [target, 'c', '0', '0'])
      entry.resume()
      continue
    }

    const target = join(dest, rel)
    const mode = (header.mode ?? 0o644) & 0o7777
    switch (header.type) {
      case 'directory': {
        const existing = await lstat(target).catch(() => undefined)
        if (existing && !existing.isDirectory()) await rm(target, { recursive: true, force: true })
        if (!existing || !existing.isDirectory()) await mkdir(target)
        await chmod(target, mode)
        await lchown(target, header.uid ?? 0, header.gid ?? 0)
        if (header.mtime) dirTimes.push([target, header.mtime])
        entry.resume()
        continue
      }
      case 'file':
      case 'contiguous-file': {
        await removeExisting(target)
        // 'wx' fails if something appeared at the path: a file is only ever created, never opened through a link.
        await pipeline(entry, createWriteStream(target, { flags: 'wx', mode }))
        result.bytes += header.size ?? 0
        break
      }
      case 'symlink': {
        await removeExisting(target)
        await symlink(header.linkname ?? '', target)
        entry.resume()
        break
      }
      case 'link': {
        const source = linkTarget(header.linkname ?? '')
        if (source === undefined) throw hostile(header.name, `a hard link to "${header.linkname}", outside the layer`)
        await ensureParents(dest, posix.dirname(source), false)
        const stat = await lstat(join(dest, source)).catch(() => undefined)
        if (!stat || stat.isDirectory()) throw hostile(header.name, `a hard link to "${header.linkname}", which is not a file of this layer`)
        await removeExisting(target)
        await link(join(dest, source), target)
        entry.resume()
        continue
      }
      case 'fifo': {
        await removeExisting(target)
        await run('mkfifo', ['-m', mode.toString(8), target])
        entry.resume()
        break
      }
      case 'character-device':
      case 'block-device':
        result.skippedDevices++
        entry.resume()
        continue
      default:
        entry.resume()
        continue
    }
    await lchown(target, header.uid ?? 0, header.gid ?? 0)
    if (header.type !== 'symlink') await chmod(target, mode)
    if (header.mtime) await lutimes(target, header.mtime, header.mtime)
  }
}

/** The entry's path relative to the layer root, or throws when it climbs out with `..`. */
function inside(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw hostile(name, 'a path that climbs out of the layer')
  return parts.join('/')
}

/** A hard link's target inside the layer, or undefined when it would leave it. */
function linkTarget(name: string): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.')
  return parts.includes('..') || parts.length === 0 ? undefined : parts.join('/')
}

function join(dest: string, rel: string): string {
  return rel === '.' || rel === '' ? dest : `${dest}/${rel}`
}

/**
 * Makes sure every directory on the way to an entry is a real directory in
 * the layer (created when missing), never a symlink that could lead out.
 */
async function ensureParents(dest: string, parent: string, create = true): Promise<void> {
  if (parent === '.' || parent === '') return
  let current = dest
  for (const part of parent.split('/')) {
    current = `${current}/${part}`
    const stat = await lstat(current).catch(() => undefined)
    if (!stat) {
      if (!create) return
      await mkdir(current, { mode: 0o755 })
    } else if (stat.isSymbolicLink()) {
      throw hostile(parent, `a path through the symlink "${current.slice(dest.length + 1)}"`)
    } else if (!stat.isDirectory()) {
      throw hostile(parent, `a path through "${current.slice(dest.length + 1)}", which is not a directory`)
    }
  }
}

async function removeExisting(target: string): Promise<void> {
  await rm(target, { recursive: true, force: true })
}

async function setxattr(path: string, name: string, value: string): Promise<void> {
  try {
    await run('setfattr', ['-n', name, '-v', value, path])
  } catch (err) {
    throw new EngineError('runtime', `cannot mark ${path} opaque for overlayfs (setfattr from the "attr" package is needed): ${(err as Error).message}`)
  }
}

function hostile(name: string, what: string): EngineError {
  return new EngineError('invalid', `refusing layer entry "${name}": ${what}`)
}

import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { chmod, lchown, link, lstat, lutimes, mkdir, rm, symlink } from 'node:fs/promises'
import { posix } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
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
/** aufs keeps its own metadata under this prefix (hard-link and directory markers); Docker skips such entries. */
const WHITEOUT_META = '.wh..wh.'
/** Linux's PATH_MAX less the NUL: a longer name cannot be created, and a huge one costs a lstat per component. */
const MAX_NAME = 4095

export interface ExtractOptions {
  /**
   * Interpret `.wh.` names as whiteouts (default): right for image layers,
   * wrong for `cp`, where they are ordinary file names, as `docker cp` takes them.
   */
  whiteouts?: boolean
  /** Called with each entry's path (relative, clean) before anything is made for it; throws to refuse it. */
  admit?: (rel: string) => void
}

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
 * - a whiteout names a file of its directory, never the directory itself or
 *   its parent (`.wh.`, `.wh..`, `.wh...` are refused);
 * - a path longer than PATH_MAX once under `dest` is refused before any of
 *   it is made (so a deep tree can neither fail half-way nor outlive rm);
 * - directory times, set last, are set only where a real directory still is;
 * - device nodes are skipped.
 */
export async function extractLayer(input: Readable, dest: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const extract = tar.extract()
  const result: ExtractResult = { entries: 0, bytes: 0, skippedDevices: 0 }
  const dirTimes: [string, Date][] = []
  // Handled at once, not when the entries are done: a truncated stream fails the feeding while an
  // entry is still being written, and a rejection left unhandled that long ends the process.
  const feeding = pipeline(input, extract).then(
    () => undefined,
    (err: Error) => {
      extract.destroy(err)
      return err
    },
  )
  const unpacker = new Unpacker(dest, options.whiteouts ?? true, options.admit)
  try {
    await unpacker.entries(extract, result, dirTimes)
  } catch (err) {
    // The feeding pipeline fails too once the extractor is gone; that failure says nothing new.
    await feeding
    throw tarError(err)
  }
  const failed = await feeding
  if (failed) throw tarError(failed)
  // Directory times last: creating their entries changed them. A later entry may have replaced a
  // directory on the way with a symlink, so each is checked again and skipped when it is no longer one.
  await unpacker.setTimes(dirTimes.reverse())
  return result
}

/**
 * One extraction's state: `verified` holds the directories (relative to
 * `dest`) already known to be real directories, so a deep tree costs one
 * lstat per directory, not one per component per entry. Anything that removes
 * a directory clears it, so a directory replaced by a symlink is checked again.
 */
class Unpacker {
  private readonly verified = new Set<string>()

  constructor(
    private readonly dest: string,
    private readonly whiteouts: boolean,
    private readonly admit?: (rel: string) => void,
  ) {}

  async entries(extract: tar.Extract, result: ExtractResult, dirTimes: [string, Date][]): Promise<void> {
    for await (const entry of extract) {
      const header = entry.header
      result.entries++
      const rel = inside(header.name)
      if (rel === '') {
        entry.resume()
        continue
      }
      // Read through a Node stream from the first moment: a tar-stream entry destroyed (the archive
      // ends mid-entry) before a pipeline is attached to it never settles that pipeline.
      const body = new PassThrough()
      pipeline(entry, body).catch((err: Error) => body.destroy(err))
      try {
        await this.entry(body, header, rel, result, dirTimes)
      } catch (err) {
        throw entryError(header.name, err)
      }
    }
  }

  private async entry(entry: Readable, header: tar.Header, rel: string, result: ExtractResult, dirTimes: [string, Date][]): Promise<void> {
    const dest = this.dest
    this.admit?.(rel)
    // Checked before anything is made: a tree deeper than PATH_MAX could not even be removed by path.
    const length = Buffer.byteLength(join(dest, rel))
    if (length > MAX_NAME) throw hostile(header.name, `a path of ${length} bytes once unpacked, longer than the ${MAX_NAME} Linux allows`)
    const base = posix.basename(rel)
    const parent = posix.dirname(rel)
    await this.ensureParents(parent)

    if (this.whiteouts && base.startsWith(WHITEOUT)) {
      entry.resume()
      if (base === OPAQUE) return setxattr(join(dest, parent), 'trusted.overlay.opaque', 'y')
      if (base.startsWith(WHITEOUT_META)) return
      const name = base.slice(WHITEOUT.length)
      // `.wh.`, `.wh..` and `.wh...` would whiteout the directory itself or its parent, outside the layer.
      if (name === '' || name === '.' || name === '..') throw hostile(header.name, 'a whiteout that names no file')
      const target = join(dest, parent === '.' ? name : `${parent}/${name}`)
      await this.removeExisting(target)
      await run('mknod', [target, 'c', '0', '0'])
      return
    }

    const target = join(dest, rel)
    const mode = (header.mode ?? 0o644) & 0o7777
    switch (header.type) {
      case 'directory': {
        const existing = await lstat(target).catch(() => undefined)
        if (existing && !existing.isDirectory()) await rm(target, { force: true })
        if (!existing || !existing.isDirectory()) await mkdir(target)
        this.verified.add(rel)
        await chmod(target, mode)
        await lchown(target, header.uid ?? 0, header.gid ?? 0)
        if (header.mtime) dirTimes.push([rel, header.mtime])
        entry.resume()
        return
      }
      case 'file':
      case 'contiguous-file': {
        await this.removeExisting(target)
        // 'wx' fails if something appeared at the path: a file is only ever created, never opened through a link.
        await pipeline(entry, createWriteStream(target, { flags: 'wx', mode }))
        result.bytes += header.size ?? 0
        break
      }
      case 'symlink': {
        await this.removeExisting(target)
        await symlink(header.linkname ?? '', target)
        entry.resume()
        break
      }
      case 'link': {
        entry.resume()
        const source = linkTarget(header.linkname ?? '')
        if (source === undefined) throw hostile(header.name, `a hard link to ${quote(header.linkname ?? '')}, outside the layer`)
        await this.ensureParents(posix.dirname(source), false)
        const stat = await lstat(join(dest, source)).catch(() => undefined)
        if (!stat || stat.isDirectory()) throw hostile(header.name, `a hard link to ${quote(header.linkname ?? '')}, which is not a file of this layer`)
        await this.removeExisting(target)
        await link(join(dest, source), target)
        return
      }
      case 'fifo': {
        await this.removeExisting(target)
        await run('mkfifo', ['-m', mode.toString(8), target])
        entry.resume()
        break
      }
      case 'character-device':
      case 'block-device':
        result.skippedDevices++
        entry.resume()
        return
      default:
        entry.resume()
        return
    }
    await lchown(target, header.uid ?? 0, header.gid ?? 0)
    if (header.type !== 'symlink') await chmod(target, mode)
    if (header.mtime) await lutimes(target, header.mtime, header.mtime)
  }

  /**
   * Makes sure every directory on the way to an entry is a real directory in
   * the layer (created when missing), never a symlink that could lead out.
   */
  private async ensureParents(parent: string, create = true): Promise<void> {
    if (parent === '.' || parent === '' || this.verified.has(parent)) return
    let rel = ''
    for (const part of parent.split('/')) {
      rel = rel ? `${rel}/${part}` : part
      if (this.verified.has(rel)) continue
      const current = `${this.dest}/${rel}`
      const stat = await lstat(current).catch(() => undefined)
      if (!stat) {
        if (!create) return
        await mkdir(current, { mode: 0o755 })
      } else if (stat.isSymbolicLink()) {
        throw hostile(parent, `a path through the symlink ${quote(rel)}`)
      } else if (!stat.isDirectory()) {
        throw hostile(parent, `a path through ${quote(rel)}, which is not a directory`)
      }
      this.verified.add(rel)
    }
  }

  async setTimes(dirTimes: [string, Date][]): Promise<void> {
    this.verified.clear()
    for (const [rel, time] of dirTimes) {
      const real = await this.ensureParents(rel, false).then(
        () => this.verified.has(rel),
        () => false,
      )
      if (real) await lutimes(join(this.dest, rel), time, time)
    }
  }

  private async removeExisting(target: string): Promise<void> {
    const existing = await lstat(target).catch(() => undefined)
    if (!existing) return
    if (existing.isDirectory()) this.verified.clear()
    await rm(target, { recursive: true, force: true })
  }
}

/** The entry's path relative to the layer root, or throws when it climbs out with `..` or cannot be a path. */
function inside(name: string): string {
  if (name.includes('\0')) throw hostile(name, 'a name with a NUL byte')
  if (Buffer.byteLength(name) > MAX_NAME) throw hostile(name, `a name of ${Buffer.byteLength(name)} bytes, longer than the ${MAX_NAME} Linux allows`)
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

async function setxattr(path: string, name: string, value: string): Promise<void> {
  try {
    await run('setfattr', ['-n', name, '-v', value, path])
  } catch (err) {
    throw new EngineError('runtime', `cannot mark ${path} opaque for overlayfs (setfattr from the "attr" package is needed): ${(err as Error).message}`)
  }
}

/** A name for a one-line message: quoted and escaped (a newline in a name stays `\n`), cut when huge. */
function quote(name: string): string {
  const quoted = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name)
  return quoted
}

function hostile(name: string, what: string): EngineError {
  return new EngineError('invalid', `refusing layer entry ${quote(name)}: ${what}`)
}

/** A system call's failure on one entry, as a user-facing line (the kernel refused a name, the disk is full). */
function entryError(name: string, err: unknown): Error {
  if (err instanceof EngineError) return err
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'ENAMETOOLONG') return hostile(name, 'a name longer than the file system allows')
  if (e?.code === 'ERR_INVALID_ARG_VALUE' || e?.code === 'ERR_INVALID_ARG_TYPE') return hostile(name, 'a link target with a NUL byte')
  if (typeof e?.code === 'string' && e.code.startsWith('E')) return new EngineError('runtime', `cannot unpack ${quote(name)}: ${e.code} (${e.message})`)
  return tarError(err)
}

/** A malformed tar stream, said as such. */
function tarError(err: unknown): Error {
  if (err instanceof EngineError) return err
  const message = (err as Error)?.message ?? String(err)
  if (/unexpected end/i.test(message)) return new EngineError('invalid', 'the tar stream ends early (truncated?)')
  if (/invalid tar header|invalid header|header exceeds/i.test(message)) return new EngineError('invalid', `the tar stream is not a valid tar archive: ${message}`)
  return err as Error
}

import { createHash } from 'node:crypto'
import { closeSync, constants, createReadStream, existsSync, fstatSync, lstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { EngineError } from '../../errors.js'
import type { ConfigJson } from '../images/oci.js'
import type { ImageStore } from '../images/store.js'
import type { Root } from '../root.js'
import type { ParsedDockerfile } from './dockerfile.js'
import type { LayerEntry } from './layer.js'

/**
 * What a cached parse was made by: this record's shape, and the running
 * pier's code (the file this runs from, by its time: the bundle, or this
 * module), so a pier upgraded or rebuilt parses again rather than trust an
 * older parser's reading.
 */
let parserStamp: string | undefined
function parsedStamp(): string {
  parserStamp ??= `parsed-dockerfile-1 ${statSync(fileURLToPath(import.meta.url)).mtimeMs}`
  return parserStamp
}

export type Layer = { digest: string; diffId: string; size: number; mediaType: string }

/** What a step left: its layer (if it makes one), the image config after it, and when it first ran. */
export interface CachedStep {
  layer?: Layer & { bytes?: number }
  config: NonNullable<ConfigJson['config']>
  created: string
}

/**
 * The build cache: one small file per step key under
 * `images/build-cache/steps/`. A key is a hash of the parent's key and of
 * everything that decides the step's result (its expanded text, the build
 * args a RUN sees, the content a COPY takes), so an entry never needs
 * invalidating: a change anywhere above gives other keys. Entries point at
 * layers in the image store; one whose layer was collected since (no image
 * uses it any more) is a miss, not an error. Beside the steps, so that an
 * unchanged rebuild does no more than look keys up: parsed Dockerfiles
 * (`parsed/`), COPY --from content hashes (`sums/`) and the context's file
 * hashes (`context-sums/`, ContextSums); `builder prune` clears them all.
 */
export class BuildCache {
  private readonly dir: string
  private readonly sums: string
  private readonly parsedDir: string
  constructor(private readonly root: Root, private readonly images: ImageStore) {
    this.dir = root.path('images', 'build-cache', 'steps')
    this.sums = root.path('images', 'build-cache', 'sums')
    this.parsedDir = root.path('images', 'build-cache', 'parsed')
  }

  // The look-ups of a cached step read a few hundred bytes each: done synchronously, as a rebuild is mostly
  // these in a row and each asynchronous call is a round trip through libuv's thread pool (slow on a busy machine).

  async get(key: string): Promise<CachedStep | undefined> {
    const step = readSmall(`${this.dir}/${key.slice(7)}.json`, (t) => JSON.parse(t) as CachedStep)
    if (!step) return undefined
    if (step.layer && !(existsSync(this.images.blobs.path(step.layer.digest)) && existsSync(this.images.layers.dir(step.layer.diffId)))) return undefined
    return step
  }

  async put(key: string, step: CachedStep): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const temp = this.root.temp('cache-step')
    await writeFile(temp, JSON.stringify(step))
    await rename(temp, `${this.dir}/${key.slice(7)}.json`)
  }

  /**
   * A COPY --from's content hash, by what decides it (the source's layers,
   * the step's words; see builder.ts), so a rebuild finds it without
   * mounting the source. Layers are named by their content, so an entry is
   * never stale; a missing or unreadable one is computed again.
   */
  async getSum(key: string): Promise<string | undefined> {
    const text = readSmall(`${this.sums}/${key.slice(7)}`, (t) => t)
    return text && /^sha256:[a-f0-9]{64}$/.test(text) ? text : undefined
  }

  async putSum(key: string, sum: string): Promise<void> {
    await mkdir(this.sums, { recursive: true })
    const temp = this.root.temp('cache-sum')
    await writeFile(temp, sum)
    await rename(temp, `${this.sums}/${key.slice(7)}`)
  }

  /**
   * A Dockerfile's stages as parsed before, by the text's hash (and the
   * format of this record, so a newer pier never reads an older shape): an
   * unchanged Dockerfile is not parsed again, nor the parser loaded.
   */
  async getParsed(text: string): Promise<ParsedDockerfile | undefined> {
    // JSON keeps an absent value inside an array as null: `ARG X` (no default) is read back as [X, undefined].
    return readSmall(this.parsedFile(text), (t) => JSON.parse(t, (key, value: unknown) => (key === 'properties' ? (value as [string, string | null][]).map(([k, v]) => [k, v ?? undefined]) : value)) as ParsedDockerfile)
  }

  async putParsed(text: string, parsed: ParsedDockerfile): Promise<void> {
    await mkdir(this.parsedDir, { recursive: true })
    const temp = this.root.temp('cache-parsed')
    await writeFile(temp, JSON.stringify(parsed))
    await rename(temp, this.parsedFile(text))
  }

  private parsedFile(text: string): string {
    return `${this.parsedDir}/${createHash('sha256').update(`${parsedStamp()}\0${text}`).digest('hex')}.json`
  }

  /** Every entry, with its file name; unreadable ones (half-written by a killed build) left out. */
  private async entries(): Promise<{ file: string; step: CachedStep }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const out = await Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => ({ file: `${this.dir}/${n}`, step: await readFile(`${this.dir}/${n}`, 'utf8').then((t) => JSON.parse(t) as CachedStep, () => undefined) })))
    return out.filter((e): e is { file: string; step: CachedStep } => !!e.step)
  }

  /** The layers the cache refers to: kept by the image store's collection as if an image used them. */
  async layers(): Promise<Layer[]> {
    return (await this.entries()).flatMap((e) => (e.step.layer ? [e.step.layer] : []))
  }

  /** Removes entries whose layer is gone from the store: they can only miss. */
  async dropBroken(): Promise<number> {
    let dropped = 0
    for (const { file, step } of await this.entries()) {
      if (!step.layer || ((await this.images.blobs.has(step.layer.digest)) && (await this.images.layers.has(step.layer.diffId)))) continue
      await rm(file, { force: true })
      dropped++
    }
    return dropped
  }

  /** Removes every entry and every cache mount; returns what the entries referred to, for collection. */
  async clear(): Promise<{ entries: number; layers: Set<string>; mountBytes: number }> {
    const entries = await this.entries()
    const layers = new Set(entries.flatMap((e) => (e.step.layer ? [e.step.layer.digest, e.step.layer.diffId] : [])))
    const mounts = this.root.path('images', 'build-cache', 'mounts')
    const mountBytes = await diskUsage(mounts)
    // Moved aside first, so a build starting meanwhile sees either the old directory whole or none.
    for (const dir of [this.dir, this.sums, this.parsedDir, this.root.path('images', 'build-cache', 'context-sums'), mounts]) {
      const doomed = this.root.temp('removed-cache')
      await rename(dir, doomed).catch(() => undefined)
      await rm(doomed, { recursive: true, force: true })
    }
    return { entries: entries.length, layers, mountBytes }
  }

  /** Where a `RUN --mount=type=cache` directory lives between builds. */
  mountDir(id: string): string {
    return this.root.path('images', 'build-cache', 'mounts', createHash('sha256').update(id).digest('hex'))
  }
}

export function stepKey(...parts: unknown[]): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`
}

/**
 * What a COPY/ADD puts in its layer, for its key: each entry's name in the
 * image, type, mode, owner, link target and the SHA-256 of its content —
 * not times, as Docker's cache ignores them (a touched file with the same
 * content hits). A file of the build context may have its content hash
 * from `sums` (see ContextSums) rather than read again.
 */
export async function entriesHash(entries: LayerEntry[], sums?: ContextSums): Promise<string> {
  const hash = createHash('sha256')
  for (const e of entries) {
    hash.update(JSON.stringify([e.name, e.type, e.mode, e.uid, e.gid, e.linkname]))
    if (e.content !== undefined) hash.update(createHash('sha256').update(e.content).digest('hex'))
    else if (e.type === 'file' && e.source) hash.update(sums ? await sums.of(e.source) : await fileDigest(e.source))
    hash.update('\0')
  }
  return `sha256:${hash.digest('hex')}`
}

/** The SHA-256 (hex) of a regular file's content. */
async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256')
  // O_NOFOLLOW, as layerTar reads it: a file swapped for a link since it was listed is refused.
  // O_NONBLOCK: a file swapped for a fifo opens at once (and is refused) rather than waiting for a writer.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    const info = fstatSync(fd)
    if (!info.isFile()) throw new EngineError('invalid', `${path} changed into something that is not a file while the build read it`)
    // Small files in synchronous reads (no thread-pool round trips); big ones streamed, so the loop keeps turning.
    if (info.size <= SMALL_FILE) {
      const chunk = Buffer.allocUnsafe(64 * 1024)
      for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n))
    } else {
      for await (const chunk of createReadStream('', { fd, autoClose: false })) hash.update(chunk as Buffer)
    }
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

/** How long before a hash is taken a file must have last changed for the hash to be kept (see ContextSums). */
const SETTLED_MS = 2000

/**
 * Content hashes of a build context's files, kept between builds, so an
 * unchanged file is not read again. A kept hash is used only while the
 * file's device, inode, size, mode, mtime and ctime (to the nanosecond)
 * are all what they were when it was read. ctime is the guard: a program
 * can set mtime back (touch -d, tar, rsync -t) but not ctime, which the
 * kernel sets to now on every write, chmod or utimes; so a file rewritten
 * with the same size and its mtime forced back is read again (BuildKit's
 * context transfer compares size and mtime only, and misses that; Docker's
 * classic builder read every file every time). The one way left to miss a
 * change is two writes inside one timestamp tick, the first read by a build
 * in between; so a hash is kept only when the file had not changed for
 * SETTLED_MS before it was read (the racy-entry rule of git's index): a
 * file edited just before a build is simply read again next time.
 */
export class ContextSums {
  private known: Record<string, [string, string]> | undefined
  private changed = false
  private readonly file: string

  constructor(private readonly root: Root, private readonly context: string) {
    this.file = root.path('images', 'build-cache', 'context-sums', `${createHash('sha256').update(context).digest('hex')}.json`)
  }

  /** The SHA-256 (hex) of a file's content: kept, when its stat says it is unchanged; else read. */
  async of(path: string): Promise<string> {
    if (!path.startsWith(`${this.context}/`)) return fileDigest(path)
    this.known ??= readSmall(this.file, (t) => JSON.parse(t) as Record<string, [string, string]>) ?? {}
    const readAt = Date.now()
    const s = lstatSync(path, { bigint: true })
    const stamp = [s.dev, s.ino, s.size, s.mode, s.mtimeNs, s.ctimeNs].join(':')
    const kept = this.known[path]
    if (kept && kept[0] === stamp) return kept[1]
    const sum = await fileDigest(path)
    const settled = Number(s.mtimeMs) < readAt - SETTLED_MS && Number(s.ctimeMs) < readAt - SETTLED_MS
    if (settled && s.isFile()) this.known[path] = [stamp, sum]
    else delete this.known[path]
    this.changed = true
    return sum
  }

  /** Writes what this build learned; a context of more files than any sane one starts over. */
  async save(): Promise<void> {
    if (!this.changed || !this.known) return
    const known = Object.keys(this.known).length > 500_000 ? {} : this.known
    await mkdir(dirname(this.file), { recursive: true })
    const temp = this.root.temp('context-sums')
    await writeFile(temp, JSON.stringify(known))
    await rename(temp, this.file)
  }
}

/** Files up to this size are hashed in synchronous reads. */
const SMALL_FILE = 1024 * 1024

/** A cache file's content read as `parse` reads it; undefined when it is missing or unreadable (half-written by a killed build). */
function readSmall<T>(path: string, parse: (text: string) => T): T | undefined {
  try {
    return parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** Bytes of the files under `path` (links not followed); 0 when it does not exist. */
async function diskUsage(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined)
  if (!info) return 0
  if (!info.isDirectory()) return info.size
  let sum = 0
  for (const name of await readdir(path)) sum += await diskUsage(`${path}/${name}`)
  return sum
}

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import type { Engine } from '../engine/engine.js'

/**
 * What a path is, as a string two sides can compare: a file by its mode and
 * content hash, a directory by its mode, a link by its target. The watch
 * keeps one such map per container (container path → signature) of what it
 * knows the container holds; a sync sends exactly the paths whose host
 * signature differs, and deletes the ones the host no longer has.
 */
export type Signature = string

/** One host path under a sync rule, with where it goes in the container. */
export interface HostEntry {
  host: string
  container: string
  /** undefined: the host no longer has it. */
  signature?: Signature
  /** A small file's content as hashed (so what is sent is what was compared). */
  content?: Buffer
}

export async function hostSignature(path: string): Promise<Signature | undefined> {
  return (await readHost(path))?.signature
}

/** A host path's signature and, for a small file, its content: read once, hashed and sent from the same bytes. */
export async function readHost(path: string): Promise<{ signature: Signature; content?: Buffer } | undefined> {
  const info = await lstat(path).catch(() => undefined)
  if (!info) return undefined
  const mode = (info.mode & 0o7777).toString(8)
  if (info.isDirectory()) return { signature: `d:${mode}` }
  if (info.isSymbolicLink()) return { signature: `l:${await readlink(path).catch(() => '')}` }
  if (!info.isFile()) return undefined
  if (info.size < SMALL) {
    const content = await readFile(path).catch(() => undefined)
    return content && { signature: `f:${mode}:${createHash('sha1').update(content).digest('hex')}`, content }
  }
  const hash = createHash('sha1')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return { signature: `f:${mode}:${hash.digest('hex')}` }
}

/** Files below this size are held in memory between hashing and sending. */
const SMALL = 1 << 20

/**
 * The paths under `dir` (itself included) that `keep` accepts, depth first,
 * parents before children. A directory `keep` refuses is not descended.
 */
export async function walk(dir: string, keep: (path: string, isDir: boolean) => boolean): Promise<string[]> {
  const out: string[] = []
  // Entry types come with the listing (links not followed): one readdir a directory, no stat a file.
  const visit = async (path: string) => {
    out.push(path)
    const children = await readdir(path, { withFileTypes: true }).catch(() => [])
    for (const child of children.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = `${path}/${child.name}`
      if (!keep(full, child.isDirectory())) continue
      if (child.isDirectory()) await visit(full)
      else out.push(full)
    }
  }
  if (await lstat(dir).catch(() => undefined)) await visit(dir)
  return out
}

/**
 * What the container holds under `target`: every path's signature, read
 * through the engine's `copyFrom` (so it works on a stopped container too).
 * `wanted` limits hashing to the paths the watch may compare.
 */
export async function containerSignatures(engine: Engine, id: string, target: string, wanted: (path: string) => boolean): Promise<Map<string, Signature>> {
  const out = new Map<string, Signature>()
  let archive: NodeJS.ReadableStream
  try {
    archive = await engine.copyFrom(id, target)
  } catch {
    // Nothing there yet: an empty container side.
    return out
  }
  const extract = tar.extract()
  ;(archive as Readable).pipe(extract)
  const base = posix.basename(target) || '.'
  for await (const entry of extract) {
    const h = entry.header
    const rel = h.name === base ? '' : h.name.startsWith(`${base}/`) ? h.name.slice(base.length + 1).replace(/\/$/, '') : undefined
    const path = rel === undefined ? undefined : rel === '' ? target : posix.join(target, rel)
    if (path === undefined || !wanted(path)) {
      entry.resume()
      continue
    }
    const mode = ((h.mode ?? 0) & 0o7777).toString(8)
    if (h.type === 'directory') out.set(path, `d:${mode}`)
    else if (h.type === 'symlink') out.set(path, `l:${h.linkname ?? ''}`)
    else if (h.type === 'file' || h.type === 'contiguous-file') {
      const hash = createHash('sha1')
      for await (const chunk of entry) hash.update(chunk as Buffer)
      out.set(path, `f:${mode}:${hash.digest('hex')}`)
      continue
    }
    entry.resume()
  }
  return out
}

/** What a sync must do for one container: paths to send, paths to delete. */
export interface Changes {
  send: HostEntry[]
  remove: string[]
}

/**
 * The difference between the host's entries and what the container is known
 * to hold. A path the host lacks is removed only if the container holds it;
 * deleting a directory covers what is under it.
 */
export function diff(entries: HostEntry[], known: Map<string, Signature>): Changes {
  const send = entries.filter((e) => e.signature !== undefined && known.get(e.container) !== e.signature)
  const gone = entries.filter((e) => e.signature === undefined && known.has(e.container)).map((e) => e.container).sort()
  const remove = gone.filter((p, i) => !gone.slice(0, i).some((q) => p.startsWith(`${q}/`)))
  return { send, remove }
}

/** After a sync: the container's known map updated with what was sent and removed. */
export function record(known: Map<string, Signature>, changes: Changes, removed = true): void {
  for (const e of changes.send) known.set(e.container, e.signature!)
  if (!removed) return
  for (const p of changes.remove) {
    for (const k of [...known.keys()]) if (k === p || k.startsWith(`${p}/`)) known.delete(k)
  }
}

/**
 * Sends `entries` (parents first) into the container: one tar per target
 * directory, unpacked by the engine's `copyTo`, which resolves the directory
 * inside the container's root and refuses an entry that would leave it.
 * Files, directories and links go as what they are, modes and owners kept.
 */
export async function sendEntries(engine: Engine, id: string, dir: string, entries: HostEntry[]): Promise<void> {
  if (entries.length === 0) return
  const pack = tar.pack()
  const writing = (async () => {
    try {
      for (const e of entries) {
        const info = await lstat(e.host).catch(() => undefined)
        // Gone since it was hashed: the next batch deletes it.
        if (!info) continue
        const name = posix.relative(dir, e.container) || '.'
        const header = { name, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid, mtime: info.mtime }
        if (info.isDirectory()) await addTarEntry(pack, { ...header, type: 'directory' })
        else if (info.isSymbolicLink()) await addTarEntry(pack, { ...header, type: 'symlink', linkname: await readlink(e.host) })
        else if (e.content) await addTarEntry(pack, { ...header, type: 'file', size: e.content.length }, e.content)
        else if (info.isFile() && info.size < SMALL) {
          // The size in the header is the size read: a file written meanwhile cannot break the archive.
          const content = await readFile(e.host)
          await addTarEntry(pack, { ...header, type: 'file', size: content.length }, content)
        } else if (info.isFile()) await addTarEntry(pack, { ...header, type: 'file', size: info.size }, createReadStream(e.host))
      }
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  await engine.copyTo(id, dir, pack as unknown as NodeJS.ReadableStream)
  await writing
}

/** Removes container paths through the engine (no `rm` needed in the image). */
export async function removePaths(engine: Engine, id: string, paths: string[]): Promise<void> {
  if (paths.length) await engine.removePaths(id, paths)
}

function addTarEntry(pack: tar.Pack, partial: Partial<tar.Header> & { name: string }, content?: Buffer | Readable): Promise<void> {
  const header = partial as tar.Header
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve())
    if (!content || Buffer.isBuffer(content)) return void (content ? pack.entry(header, content, done) : pack.entry(header, done))
    content.on('error', reject)
    content.pipe(pack.entry(header, done))
  })
}

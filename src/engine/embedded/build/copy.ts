import { createReadStream } from 'node:fs'
import { lstat, mkdir, open } from 'node:fs/promises'
import { basename, posix, relative } from 'node:path'
import { createGunzip } from 'node:zlib'
import { EngineError } from '../../errors.js'
import { resolveUser } from '../containers/users.js'
import { extractLayer } from '../images/extract.js'
import { contextSources } from './context.js'
import { filterUnder, type DockerIgnore } from './dockerignore.js'
import type { Instruction } from './dockerfile.js'
import { entryOf, treeEntries, type LayerEntry } from './layer.js'

/** Where a COPY/ADD takes its files: the build context, or the root filesystem of a stage or an image (`--from`). */
export interface CopyFrom {
  root: string
  ignore?: DockerIgnore
  /** How errors name it ("stage build"); the build context by default. */
  what?: string
}

export interface CopyOptions {
  workdir: string
  /** The unpacked layers of the image being built, for `--chown` by name. */
  layers: string[]
  /** A directory this step may unpack archives into; removed once its layer is written. */
  scratch: string
}

/**
 * The entries a COPY/ADD writes: files, directories (their content, as
 * Docker copies them), `*`/`?` patterns and heredocs, never from outside
 * their root; ADD unpacks a local tar archive (plain or gzip, recognised by
 * its content as Docker does). ADD from a URL is refused.
 */
export async function copyEntries(i: Instruction, word: (s: string) => string, from: CopyFrom, options: CopyOptions): Promise<LayerEntry[]> {
  const docs = i.heredocs
  // With heredocs, the arguments are on the first line; the rest are their bodies.
  const items = docs.length ? i.text.split('\n')[0].trim().split(/\s+/).map(word) : (i.json ?? i.args).map(word)
  if (items.length < 2) throw new EngineError('invalid', `Dockerfile line ${i.line}: ${i.keyword} needs a source and a destination`)
  const dest = items.pop()!
  const destPath = posix.resolve(options.workdir, dest).slice(1)
  const intoDir = dest.endsWith('/') || items.length > 1
  const owner = i.flags.chown ? await chown(i.flags.chown, options.layers, i.line) : undefined
  const mode = i.flags.chmod ? parseInt(i.flags.chmod, 8) : undefined
  if (i.flags.chmod && (Number.isNaN(mode) || !/^[0-7]{3,4}$/.test(i.flags.chmod))) throw new EngineError('invalid', `Dockerfile line ${i.line}: --chmod=${i.flags.chmod} is not an octal mode`)
  const entries: LayerEntry[] = []
  const file = (name: string) => parentDirs(posix.dirname(name) === '.' ? '' : posix.dirname(name))
  for (const source of items) {
    const doc = docs.find((d) => `<<${d.name}` === source.replace(/^<<-?["']?/, '<<').replace(/["']$/, ''))
    if (doc) {
      const name = intoDir ? posix.join(destPath, doc.name) : destPath
      entries.push(...file(name), { name, type: 'file', mode: 0o644, content: Buffer.from(doc.quoted ? doc.body : word(doc.body)) })
      continue
    }
    if (i.keyword === 'ADD' && /^[a-z]+:\/\//i.test(source)) throw new EngineError('unsupported', `Dockerfile line ${i.line}: ADD from a URL is not supported by pier's builder; download it in a RUN step`)
    const paths = await contextSources(from.root, source, i.line, { ...(from.ignore ? { ignore: from.ignore } : {}), ...(from.what ? { what: from.what } : {}) })
    for (const path of paths) {
      const info = await lstat(path)
      if (info.isDirectory()) {
        const filter = from.ignore ? filterUnder(from.ignore, relative(from.root, path)) : undefined
        entries.push(...parentDirs(destPath), ...(await treeEntries(path, destPath, filter)))
      } else if (i.keyword === 'ADD' && info.isFile() && (await archiveKind(path))) {
        entries.push(...parentDirs(destPath), ...(await unpacked(path, options.scratch, destPath, i.line)))
      } else {
        const name = intoDir || paths.length > 1 ? posix.join(destPath, basename(path)) : destPath
        entries.push(...file(name), await entryOf(path, name))
      }
    }
  }
  return entries.map((e) => ({ ...e, ...(owner && e.type !== 'whiteout' ? owner : {}), ...(mode !== undefined && e.type === 'file' ? { mode } : {}) }))
}

/** Directory entries for `path` and each of its parents (no leading slash). */
export function parentDirs(path: string): LayerEntry[] {
  const parts = path.split('/').filter(Boolean)
  return parts.map((_, n) => ({ name: parts.slice(0, n + 1).join('/'), type: 'directory' as const, mode: 0o755 }))
}

/**
 * `--chown=user:group`: numbers as given, names looked up in the image's
 * /etc/passwd and /etc/group, read inside each layer (a link there resolves
 * inside the layer, never to the host's files).
 */
async function chown(value: string, layers: string[], line: number): Promise<{ uid: number; gid: number }> {
  const [u, g] = value.split(':')
  try {
    const user = await resolveUser(u, layers)
    const group = g === undefined ? user.gid : /^\d+$/.test(g) ? Number(g) : (await resolveUser(`0:${g}`, layers)).gid
    return { uid: user.uid, gid: group }
  } catch (err) {
    throw new EngineError('invalid', `Dockerfile line ${line}: --chown=${value}: ${(err as Error).message}`)
  }
}

/** gzip or tar, by the first bytes: Docker unpacks an ADD source that is an archive whatever its name. */
async function archiveKind(path: string): Promise<'gzip' | 'tar' | undefined> {
  const fd = await open(path, 'r')
  try {
    const head = Buffer.alloc(262)
    const { bytesRead } = await fd.read(head, 0, 262, 0)
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
    if (bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar'
    return undefined
  } finally {
    await fd.close()
  }
}

/**
 * An archive's content as entries under `dest`: unpacked by the layer
 * extractor (which keeps every entry inside its directory: no `..`, nothing
 * written through a link), with `.wh.` names taken as plain names.
 */
async function unpacked(path: string, scratch: string, dest: string, line: number): Promise<LayerEntry[]> {
  const dir = `${scratch}/${Math.random().toString(36).slice(2)}`
  await mkdir(dir, { recursive: true })
  const raw = createReadStream(path)
  const input = (await archiveKind(path)) === 'gzip' ? raw.pipe(createGunzip()) : raw
  if (input !== raw) raw.on('error', (err) => input.destroy(err))
  await extractLayer(input, dir, { whiteouts: false }).catch((err: Error) => {
    throw new EngineError('invalid', `Dockerfile line ${line}: ADD cannot unpack ${basename(path)}: ${err.message}`)
  })
  return treeEntries(dir, dest)
}

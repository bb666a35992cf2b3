import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join, relative } from 'node:path'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import { DockerIgnore } from '../dockerignore.js'
import type { BuildSpec } from '../engine.js'

/**
 * The build context as the tar POST /build reads: every file under the
 * context directory that .dockerignore does not exclude (patterns with `*`,
 * `?`, `**`, a leading `!` to re-include, a leading `/` ignored; a pattern
 * matching a directory excludes all under it), with the Dockerfile and
 * .dockerignore always sent as Docker sends them. An inline Dockerfile is
 * added under a name of its own. Regular files, directories and symlinks;
 * other kinds are skipped. Files are read into memory one at a time.
 */

const INLINE = '.pier-inline.Dockerfile'

export async function contextTar(spec: BuildSpec): Promise<{ tar: Readable; dockerfile: string }> {
  const ignoreFile = join(spec.context, '.dockerignore')
  const ignore = new DockerIgnore(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '')
  const dockerfile = spec.dockerfileInline !== undefined ? INLINE : relative(spec.context, join(spec.context, spec.dockerfile ?? 'Dockerfile'))
  const keep = new Set([dockerfile, '.dockerignore'])
  const pack = tar.pack()
  const add = (header: Partial<tar.Header>, body?: Buffer) => new Promise<void>((resolve, reject) => pack.entry(header as tar.Header, body ?? Buffer.alloc(0), (e) => (e ? reject(e) : resolve())))
  const walk = async (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name)
      const rel = relative(spec.context, full)
      const st = lstatSync(full)
      const holdsKept = st.isDirectory() && [...keep].some((k) => k.startsWith(`${rel}/`))
      const left = ignore.ignored(rel) && !keep.has(rel)
      // An ignored directory is still walked when an exception (or the Dockerfile) may re-include something in it.
      if (left && !(st.isDirectory() && (holdsKept || !ignore.ignoresWholeDir(rel)))) continue
      const base = { name: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime }
      if (st.isDirectory()) {
        if (!left) await add({ ...base, type: 'directory' })
        await walk(full)
      } else if (st.isSymbolicLink()) await add({ ...base, type: 'symlink', linkname: readlinkSync(full) })
      else if (st.isFile()) await add({ ...base, type: 'file', size: st.size }, readFileSync(full))
    }
  }
  // Written as the daemon reads it; a failure ends the stream with the error.
  void (async () => {
    try {
      await walk(spec.context)
      if (spec.dockerfileInline !== undefined) await add({ name: INLINE, type: 'file', mode: 0o644 }, Buffer.from(spec.dockerfileInline))
      pack.finalize()
    } catch (e) {
      pack.destroy(e as Error)
    }
  })()
  return { tar: pack as unknown as Readable, dockerfile }
}

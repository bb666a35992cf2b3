import { readFileSync } from 'node:fs'
import { lstat, readdir, stat } from 'node:fs/promises'
import { basename, isAbsolute, join, relative } from 'node:path'
import type { BuildSpec } from '../../engine.js'
import { EngineError } from '../../errors.js'
import { lexicalInside, resolveInRoot } from '../fs/resolve.js'
import type { DockerIgnore } from './dockerignore.js'

/** More than any Dockerfile a person writes; a bigger one is a mistake (or a device) and would be read whole. */
const MAX_DOCKERFILE = 4 * 1024 * 1024

/**
 * The Dockerfile's text. A path inside the context is resolved inside it, as
 * the context's own links say (a `Dockerfile -> /etc/shadow` link names the
 * context's `etc/shadow`, not the host's); a path outside the context is
 * one the user wrote in the Compose file, and is read as given.
 */
export async function readDockerfile(spec: BuildSpec): Promise<string> {
  const given = spec.dockerfile ?? 'Dockerfile'
  const rel = isAbsolute(given) ? relative(spec.context, given) : given
  const inContext = lexicalInside(rel) !== undefined && !isAbsolute(rel) && !rel.startsWith('..')
  const path = inContext ? await resolveInRoot(spec.context, rel, { what: 'the build context' }) : given
  const info = await stat(path).catch(() => undefined)
  if (!info?.isFile()) throw new EngineError('not-found', `cannot read the Dockerfile ${given}${inContext ? ` in the build context ${spec.context}` : ''}: check build.context and build.dockerfile`)
  if (info.size > MAX_DOCKERFILE) throw new EngineError('invalid', `the Dockerfile ${given} is ${info.size} bytes; pier reads Dockerfiles of up to ${MAX_DOCKERFILE} bytes`)
  return readFileSync(path, 'utf8')
}

/**
 * The host paths a COPY/ADD source names in the build context: a path, or
 * `*`/`?` patterns in its last component. Every component but the last is
 * resolved inside the context (links followed as the image would see them,
 * with the context as `/`), so no link leads out of it; the last is taken as
 * it is, so a link there is copied as a link, as Docker copies it.
 */
export async function contextSources(context: string, source: string, line: number, options: { ignore?: DockerIgnore; what?: string } = {}): Promise<string[]> {
  const label = options.what ?? `the build context ${context}`
  const short = options.what ?? 'the build context'
  const rel = lexicalInside(source)
  if (rel === undefined) throw new EngineError('invalid', `Dockerfile line ${line}: ${source} is outside ${label}`)
  const what = { what: 'the build context' }
  // What .dockerignore leaves out is not in the context at all, as Docker never sends it.
  const ignored = (path: string) => !!options.ignore?.ignored(relative(context, path))
  const name = basename(rel)
  if (!/[*?]/.test(name)) {
    const path = await resolveInRoot(context, rel, { ...what, followLast: false })
    if (!(await lstat(path).catch(() => undefined)) || (path !== context && ignored(path))) throw new EngineError('not-found', `Dockerfile line ${line}: ${source} not found in ${label}`)
    return [path]
  }
  const dir = await resolveInRoot(context, rel.slice(0, rel.length - name.length), what)
  const pattern = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
  const matches = (await readdir(dir).catch(() => [] as string[])).filter((n) => pattern.test(n)).sort().map((n) => join(dir, n)).filter((p) => !ignored(p))
  if (matches.length === 0) throw new EngineError('not-found', `Dockerfile line ${line}: nothing in ${short} matches ${source}`)
  return matches
}

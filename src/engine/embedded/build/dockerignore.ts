import { readFile, stat } from 'node:fs/promises'
import { EngineError } from '../../errors.js'
import { DockerIgnore } from '../../dockerignore.js'
import { resolveInRoot } from '../fs/resolve.js'
import type { WalkFilter } from './layer.js'

export type { DockerIgnore } from '../../dockerignore.js'

/** The context's .dockerignore (read inside the context: a link there is resolved as the context sees it), or nothing ignored. */
export async function readDockerIgnore(context: string): Promise<DockerIgnore> {
  const path = await resolveInRoot(context, '.dockerignore', { what: 'the build context' }).catch(() => undefined)
  const info = path ? await stat(path).catch(() => undefined) : undefined
  // Only a regular file of a sane size: a fifo would block the build forever, a device would never end.
  if (info && (!info.isFile() || info.size > 1024 * 1024)) throw new EngineError('invalid', `the build context's .dockerignore is not a regular file of up to 1 MiB`)
  const text = path && info ? await readFile(path, 'utf8') : ''
  return new DockerIgnore(text)
}

/** The patterns of a .dockerignore text. */
export function parseDockerIgnore(text: string): DockerIgnore {
  return new DockerIgnore(text)
}

/** The filter a walk of `base` (a directory relative to the context) applies. */
export function filterUnder(ignore: DockerIgnore, base: string): WalkFilter {
  return { ignored: (rel) => ignore.ignored(rel), hasExceptions: ignore.hasExceptions, base }
}

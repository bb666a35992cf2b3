import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { SpecError } from './errors.js'
import { interpolate } from './interpolate.js'
import { isPlainDict, type Dict } from './data.js'
import { parseCached } from './parse-cache.js'
import { resolvePath } from './paths.js'
import { displayName, type Sources } from './source.js'
import type { Lookup } from './template.js'

/** What reading any Compose file needs: shared by the -f files, extends and include. */
export interface FileContext {
  sources: Sources
  interpolate: boolean
  warn(message: string): void
  /** Reads standard input, for `-f -`. */
  stdin(): Promise<string>
  /** Variables already warned about, so each unset one is reported once per load. */
  warnedUnset: Set<string>
}

export const STDIN = '-'

/**
 * Reads one Compose file: parse (positions recorded), interpolate with
 * `lookup`, and make `extends.file` absolute against the file's own directory
 * (where the user wrote it relative to). The result is plain data.
 */
export async function readComposeFile(path: string, lookup: Lookup, ctx: FileContext): Promise<Dict> {
  const name = path === STDIN ? '(stdin)' : path
  const text = await readText(path, ctx)
  const parsed = await parseCached(text, name)
  ctx.sources.add(name, parsed.positions)
  let data = parsed.data
  if (ctx.interpolate) {
    const onUnset = (variable: string) => {
      if (ctx.warnedUnset.has(variable)) return
      ctx.warnedUnset.add(variable)
      ctx.warn(`The "${variable}" variable is not set. Defaulting to a blank string.`)
    }
    const onError = (at: string, message: string): never => {
      throw new SpecError('interpolation', message, { loc: ctx.sources.locate(at, name), path: at })
    }
    data = interpolate(data, lookup, onUnset, onError) as Dict
  }
  return path === STDIN ? data : withAbsoluteExtendsFiles(data, dirname(path))
}

async function readText(path: string, ctx: FileContext): Promise<string> {
  if (path === STDIN) return ctx.stdin()
  try {
    return await readFile(path, 'utf8')
  } catch (err: any) {
    if (err?.code === 'ENOENT') throw new SpecError('file-not-found', `${displayName(path)}: no such file; check the path given with -f or COMPOSE_FILE`)
    if (err?.code === 'EISDIR') throw new SpecError('file-not-found', `${displayName(path)} is a directory, not a compose file`)
    throw new SpecError('file-not-found', `${displayName(path)}: cannot read: ${err?.message ?? err}`)
  }
}

function withAbsoluteExtendsFiles(data: Dict, dir: string): Dict {
  if (!isPlainDict(data.services)) return data
  let changed = false
  const services: Dict = {}
  for (const [name, service] of Object.entries(data.services)) {
    if (isPlainDict(service) && isPlainDict(service.extends) && typeof service.extends.file === 'string') {
      services[name] = { ...service, extends: { ...service.extends, file: resolvePath(dir, service.extends.file) } }
      changed = true
    } else {
      services[name] = service
    }
  }
  return changed ? { ...data, services } : data
}

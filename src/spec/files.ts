import { dirname } from 'node:path'
import { SpecError } from './errors.js'
import { interpolate } from './interpolate.js'
import { isPlainDict, type Dict } from './data.js'
import { parseCached } from './parse-cache.js'
import type { ParsedFile } from './parse.js'
import { resolvePath } from './paths.js'
import { describeProblem, MAX_COMPOSE_FILE, ReadError, readRegularFile } from './read.js'
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
  /** Files parsed so far, by path: the project name is read from them before they are interpolated. */
  parsed?: Map<string, Promise<ParsedFile>>
  /** Set when a file read so far holds `!reset` or `!override`: until then there are none to strip. */
  markers?: boolean
}

export const STDIN = '-'

/**
 * Reads one Compose file: parse (positions recorded), interpolate with
 * `lookup`, and make `extends.file` absolute against the file's own directory
 * (where the user wrote it relative to), or against an included project's
 * `project_directory` (compose-go resolves it against the loader's directory). The result is plain data.
 */
export async function readComposeFile(path: string, lookup: Lookup, ctx: FileContext, extendsBase?: string): Promise<Dict> {
  const name = path === STDIN ? '(stdin)' : path
  const parsed = await parseComposeFile(path, ctx)
  if (parsed.empty) throw new SpecError('yaml', 'empty compose file: add a `services:` section', { loc: { file: displayName(name), line: 1, col: 1 } })
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
  return path === STDIN ? data : withAbsoluteExtendsFiles(data, extendsBase ?? dirname(path))
}

/** Reads and parses one file once per load (standard input can only be read once). */
export function parseComposeFile(path: string, ctx: FileContext): Promise<ParsedFile> {
  ctx.parsed ??= new Map()
  let parsed = ctx.parsed.get(path)
  if (!parsed) {
    const name = path === STDIN ? '(stdin)' : path
    parsed = readText(path, ctx).then(async (text) => {
      const result = await parseCached(text, name)
      ctx.sources.add(name, result.positions)
      if (result.markers) ctx.markers = true
      return result
    })
    ctx.parsed.set(path, parsed)
  }
  return parsed
}

async function readText(path: string, ctx: FileContext): Promise<string> {
  if (path === STDIN) return ctx.stdin()
  try {
    return readRegularFile(path, MAX_COMPOSE_FILE)
  } catch (err) {
    if (!(err instanceof ReadError)) throw err
    if (err.problem === 'missing') throw new SpecError('file-not-found', `${displayName(path)}: no such file; check the path given with -f or COMPOSE_FILE`)
    if (err.problem === 'directory') throw new SpecError('file-not-found', `${displayName(path)} is a directory, not a compose file`)
    throw new SpecError('file-not-found', `${displayName(path)} ${describeProblem(err.problem, MAX_COMPOSE_FILE)}: give a compose file`)
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

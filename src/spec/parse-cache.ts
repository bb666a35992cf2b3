import { statSync } from 'node:fs'
import { distPath } from '../paths.js'
import { cacheGet, cacheHas, cacheKey, cachePut } from './cache.js'
import { Override, Reset } from './data.js'
import type { ParsedFile } from './parse.js'
import { displayName, type FieldPath, type Loc } from './source.js'

/**
 * Parsing YAML is the costliest step of loading a large project, and most
 * runs read files that have not changed since the last one. So a parse result
 * is kept under the hash of the text and of the parser's own build; the
 * parsers are only loaded on a miss. Positions are a separate entry under the
 * same key, read only when an error or a warning needs one. The fast parse
 * finds no positions (parse.ts): finding them is a full parse by the `yaml`
 * package, done only when asked, and its result is stored then. An entry
 * whose positions were never asked for has none stored; a later run that
 * needs them finds them from the text it holds, which has the same hash.
 */
export async function parseCached(text: string, file: string): Promise<ParsedFile> {
  const key = cacheKey('parse', parserStamp(), text)
  const hit = cacheGet('parse', key)
  if (hit !== undefined) {
    try {
      return await decode(hit, text, file, key)
    } catch {
      // An unreadable entry is just a miss.
    }
  }
  const { parseYaml } = await import('./parse.js')
  const parsed = parseYaml(text, file)
  const encoded = encode(parsed)
  // A user key named `$pier` could pass for a marker when read back: such a file is not cached.
  if (encoded.length >= MAX_ENTRY || text.includes('$pier')) return parsed
  cachePut('parse', key, encoded)
  const { positions } = parsed
  // The slow path found the positions already: storing them now spares a later run that parse.
  if (positions instanceof Map) storePositions(key, positions)
  return { ...parsed, positions: positions instanceof Map ? positions : () => storePositions(key, positions()) }
}

/** Aliases are expanded in the cached form, so a huge expansion is not worth writing. */
const MAX_ENTRY = 32 * 1024 * 1024

let stamp: string | undefined
function parserStamp(): string {
  stamp ??= String(statSync(distPath('src', 'spec', 'parse.js')).mtimeMs)
  return stamp
}

interface Entry {
  data: unknown
  markers: boolean
  empty?: boolean
}

const RESET = { $pier: 'reset' }

function encode(parsed: ParsedFile): string {
  let markers = false
  const data = JSON.stringify(parsed.data, (_key, value) => {
    if (value instanceof Reset) {
      markers = true
      return RESET
    }
    if (value instanceof Override) {
      markers = true
      return { $pier: 'override', value: value.value }
    }
    return value
  })
  return `{"markers":${markers},"empty":${parsed.empty === true},"data":${data}}`
}

async function decode(stored: string, text: string, file: string, key: string): Promise<ParsedFile> {
  const entry = JSON.parse(stored) as Entry
  const data = entry.markers ? revive(entry.data) : entry.data
  // Loaded (not run) only while the positions were never stored: they are asked for synchronously.
  const parser = cacheHas('positions', key) ? undefined : await import('./parse.js')
  const positions = () => {
    const list = cacheGet('positions', key)
    if (list !== undefined) return decodePositions(list, file)
    // Without the parser (the entry went between the check and now) an error still names the field, just not the line.
    return parser ? storePositions(key, parser.positionsOf(text, file)) : new Map<FieldPath, Loc>()
  }
  return { file, data: data as ParsedFile['data'], positions, markers: entry.markers, ...(entry.empty ? { empty: true } : {}) }
}

function storePositions(key: string, positions: Map<FieldPath, Loc>): Map<FieldPath, Loc> {
  cachePut('positions', key, JSON.stringify([...positions].map(([path, loc]) => [path, loc.line, loc.col])))
  return positions
}

function decodePositions(stored: string, file: string): Map<FieldPath, Loc> {
  const name = displayName(file)
  const list = JSON.parse(stored) as [FieldPath, number, number][]
  return new Map<FieldPath, Loc>(list.map(([path, line, col]) => [path, { file: name, line, col }]))
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive)
  if (value === null || typeof value !== 'object') return value
  const record = value as Record<string, unknown>
  if (record.$pier === 'reset') return new Reset()
  if (record.$pier === 'override') return new Override(revive(record.value))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(record)) out[k] = revive(v)
  return out
}

import { statSync } from 'node:fs'
import { distPath } from '../paths.js'
import { cacheGet, cacheKey, cachePut } from './cache.js'
import { Override, Reset } from './data.js'
import type { ParsedFile } from './parse.js'
import { displayName, type FieldPath, type Loc } from './source.js'

/**
 * Parsing YAML is the costliest step of loading a large project, and most
 * runs read files that have not changed since the last one. So a parse result
 * (the data and every field's position) is kept under the hash of the text
 * and of the parser's own build; the `yaml` package is only loaded on a miss.
 * Positions are a separate entry, read only when an error needs one.
 */
export async function parseCached(text: string, file: string): Promise<ParsedFile> {
  const key = cacheKey('parse', parserStamp(), text)
  const hit = cacheGet('parse', key)
  if (hit !== undefined) {
    try {
      return decode(hit, file, key)
    } catch {
      // An unreadable entry is just a miss.
    }
  }
  const { parseYaml } = await import('./parse.js')
  const parsed = parseYaml(text, file)
  const encoded = encode(parsed)
  // A user key named `$pier` could pass for a marker when read back: such a file is not cached.
  if (encoded.length < MAX_ENTRY && !text.includes('$pier')) {
    const positions = parsed.positions instanceof Map ? parsed.positions : parsed.positions()
    cachePut('positions', key, JSON.stringify([...positions].map(([path, loc]) => [path, loc.line, loc.col])))
    cachePut('parse', key, encoded)
  }
  return parsed
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

function decode(text: string, file: string, key: string): ParsedFile {
  const entry = JSON.parse(text) as Entry
  const data = entry.markers ? revive(entry.data) : entry.data
  const positions = () => {
    // Without its positions entry an error still names the field, just not the line.
    const stored = cacheGet('positions', key)
    const name = displayName(file)
    const list = stored === undefined ? [] : (JSON.parse(stored) as [FieldPath, number, number][])
    return new Map<FieldPath, Loc>(list.map(([path, line, col]) => [path, { file: name, line, col }]))
  }
  return { file, data: data as ParsedFile['data'], positions, markers: entry.markers, ...(entry.empty ? { empty: true } : {}) }
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

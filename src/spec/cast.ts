import { isPlainDict, type Dict } from './data.js'
import { childPath, type FieldPath } from './source.js'
import { parseBytes, parseDuration } from './units.js'

/** Reports a bad value at a field path; implemented by the normalizer with file positions. */
export type Fail = (path: FieldPath, message: string) => never

/**
 * Typed readers for validated values. The schema lets interpolated fields be
 * strings (`replicas: ${N}`); these turn them into the type the field means,
 * or fail with the field path.
 */
export class Cast {
  constructor(readonly fail: Fail) {}

  bool(value: unknown, path: FieldPath): boolean | undefined {
    if (value === undefined || value === null) return undefined
    if (typeof value === 'boolean') return value
    const text = String(value).trim().toLowerCase()
    if (['true', '1', 't', 'yes', 'y', 'on'].includes(text)) return true
    if (['false', '0', 'f', 'no', 'n', 'off', ''].includes(text)) return false
    return this.fail(path, `invalid boolean ${JSON.stringify(value)}: use true or false`)
  }

  int(value: unknown, path: FieldPath): number | undefined {
    if (value === undefined || value === null) return undefined
    const n = typeof value === 'number' ? value : Number(String(value).trim())
    if (!Number.isInteger(n) || String(value).trim() === '') return this.fail(path, `invalid integer ${JSON.stringify(value)}`)
    return n
  }

  number(value: unknown, path: FieldPath): number | undefined {
    if (value === undefined || value === null) return undefined
    const n = typeof value === 'number' ? value : Number(String(value).trim())
    if (!Number.isFinite(n) || String(value).trim() === '') return this.fail(path, `invalid number ${JSON.stringify(value)}`)
    return n
  }

  duration(value: unknown, path: FieldPath): number | undefined {
    if (value === undefined || value === null) return undefined
    const ms = parseDuration(String(value))
    if (ms === undefined) return this.fail(path, `invalid duration ${JSON.stringify(value)}: use a number with a unit, like 10s, 1m30s or 500ms`)
    return ms
  }

  bytes(value: unknown, path: FieldPath): number | undefined {
    if (value === undefined || value === null) return undefined
    if (value === -1 || value === '-1') return -1
    const n = parseBytes(value as string | number)
    if (n === undefined) return this.fail(path, `invalid size ${JSON.stringify(value)}: use a number of bytes with an optional unit b, k, m or g (powers of 1024)`)
    return n
  }

  /** A string or a list of strings → a list. */
  list(value: unknown): string[] | undefined {
    if (value === undefined || value === null) return undefined
    return (Array.isArray(value) ? value : [value]).map(String)
  }

  /**
   * A list of `KEY=VALUE` or a mapping → a mapping of strings. A key with no
   * value (`- KEY`, `KEY: null`) goes to `missing`, which decides its fate.
   */
  dict(value: unknown, missing: (key: string) => string | undefined = () => ''): Record<string, string> {
    const out: Record<string, string> = {}
    if (value === undefined || value === null) return out
    const put = (key: string, v: unknown) => {
      if (v === null || v === undefined) {
        const resolved = missing(key)
        if (resolved !== undefined) out[key] = resolved
      } else {
        out[key] = String(v)
      }
    }
    if (isPlainDict(value)) for (const [k, v] of Object.entries(value)) put(k, v)
    else if (Array.isArray(value)) {
      for (const item of value) {
        const text = String(item)
        const eq = text.indexOf('=')
        if (eq < 0) put(text, null)
        else put(text.slice(0, eq), text.slice(eq + 1))
      }
    }
    return out
  }

  /** Copies the mapping's entries that `read` turns into a defined value. */
  fields<T extends object>(value: unknown, path: FieldPath, read: { [K in keyof T]?: (v: unknown, p: FieldPath) => T[K] | undefined }): T {
    const out: Dict = {}
    if (!isPlainDict(value)) return out as T
    for (const [key, v] of Object.entries(value)) {
      const reader = (read as Record<string, ((v: unknown, p: FieldPath) => unknown) | undefined>)[key]
      const converted = reader ? reader(v, childPath(path, key)) : v
      if (converted !== undefined) out[key] = converted
    }
    return out as T
  }
}

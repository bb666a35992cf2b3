import { Override, Reset, type Dict } from './parse.js'
import { childPath, type FieldPath } from './source.js'
import { substitute, TemplateError, type Lookup } from './template.js'

/**
 * Substitutes variables in every string value of a parsed file (never in keys,
 * as Compose does). Returns a new tree; the input is not changed, so subtrees
 * shared by YAML aliases stay intact.
 *
 * Values are substituted before type conversion: `replicas: ${N}` becomes the
 * string "3" here and a number in normalization.
 */
export function interpolate(
  value: unknown,
  lookup: Lookup,
  onUnset: (name: string) => void,
  onError: (path: FieldPath, message: string) => never,
  path: FieldPath = '',
): unknown {
  if (typeof value === 'string') {
    try {
      return substitute(value, lookup, onUnset)
    } catch (err) {
      if (err instanceof TemplateError) onError(path, err.message)
      throw err
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, lookup, onUnset, onError, childPath(path, i)))
  if (value instanceof Override) return new Override(interpolate(value.value, lookup, onUnset, onError, path))
  if (value instanceof Reset || value === null || typeof value !== 'object') return value
  const out: Dict = {}
  for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, lookup, onUnset, onError, childPath(path, k))
  return out
}

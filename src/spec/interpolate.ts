import { Override, Reset, type Dict } from './data.js'
import { childPath, type FieldPath } from './source.js'
import { substitute, TemplateError, type Lookup } from './template.js'

/**
 * Substitutes variables in every string value of a parsed file (never in keys,
 * as Compose does). The input is never changed: a subtree with nothing to
 * substitute is returned as it is (shared), and one that changes is copied, so
 * subtrees shared by YAML aliases stay intact and large files allocate little.
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
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = interpolate(value[i], lookup, onUnset, onError, childPath(path, i))
      if (item !== value[i]) (out ??= value.slice())[i] = item
    }
    return out ?? value
  }
  if (value instanceof Override) {
    const inner = interpolate(value.value, lookup, onUnset, onError, path)
    return inner === value.value ? value : new Override(inner)
  }
  if (value instanceof Reset || value === null || typeof value !== 'object') return value
  let out: Dict | undefined
  for (const [k, v] of Object.entries(value)) {
    const item = interpolate(v, lookup, onUnset, onError, childPath(path, k))
    if (item !== v) (out ??= { ...(value as Dict) })[k] = item
  }
  return out ?? value
}

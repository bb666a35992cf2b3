/**
 * Compose's variable substitution for one string: `$VAR`, `${VAR}` and the
 * `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`, `${VAR:+a}`, `${VAR+a}`
 * forms, nested in defaults, with `$$` for a literal `$`. Shared by the
 * compose-file interpolation and the .env parser.
 */

export type Lookup = (name: string) => string | undefined

/** Raised for a malformed template or a `?` form whose variable is missing. */
export class TemplateError extends Error {}

const NAME = /^[_A-Za-z][_A-Za-z0-9]*/

/**
 * How deep `${A:-${B:-…}}` may nest. Real files nest two or three levels; the
 * bound keeps a hostile one from exhausting the stack (one error line instead).
 */
export const MAX_NESTING = 200

export function substitute(text: string, lookup: Lookup, onUnset?: (name: string) => void, depth = 0): string {
  if (!text.includes('$')) return text
  if (depth > MAX_NESTING) throw new TemplateError(`interpolation nested more than ${MAX_NESTING} levels deep: simplify the \${…} defaults`)
  let out = ''
  let i = 0
  while (i < text.length) {
    const dollar = text.indexOf('$', i)
    if (dollar < 0) {
      out += text.slice(i)
      break
    }
    out += text.slice(i, dollar)
    const next = text[dollar + 1]
    if (next === '$') {
      out += '$'
      i = dollar + 2
    } else if (next === '{') {
      const close = matchingBrace(text, dollar + 2)
      if (close < 0) throw new TemplateError(`invalid interpolation "${text.slice(dollar)}": no closing "}"`)
      out += braced(text.slice(dollar + 2, close), lookup, onUnset, depth)
      i = close + 1
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0]
      if (name) {
        out += resolve(name, lookup, onUnset)
        i = dollar + 1 + name.length
      } else {
        // A `$` before anything that cannot start a name is kept as it is.
        out += '$'
        i = dollar + 1
      }
    }
  }
  return out
}

/**
 * Index of the `}` closing a `${` whose body starts at `from`, or -1. Every
 * `{` in the body counts, not only `${`, so a default holding braces
 * (`${JSON:-{"a":1}}`) ends at its own `}`, as in Compose.
 */
function matchingBrace(text: string, from: number): number {
  let depth = 1
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (c === '$' && text[i + 1] === '$') i++
    else if (c === '{') depth++
    else if (c === '}' && --depth === 0) return i
  }
  return -1
}

function braced(body: string, lookup: Lookup, onUnset: ((name: string) => void) | undefined, depth: number): string {
  const name = NAME.exec(body)?.[0]
  if (!name) throw new TemplateError(`invalid interpolation "\${${body}}": expected a variable name`)
  const rest = body.slice(name.length)
  if (rest === '') return resolve(name, lookup, onUnset)

  const colon = rest[0] === ':'
  const op = rest[colon ? 1 : 0]
  const arg = rest.slice(colon ? 2 : 1)
  if (op !== '-' && op !== '?' && op !== '+') {
    throw new TemplateError(`invalid interpolation "\${${body}}": supported forms are \${${name}:-default}, \${${name}:?error} and \${${name}:+alternative}`)
  }
  const value = lookup(name)
  // With the colon, an empty value counts as missing; without it, only an unset one does.
  const present = colon ? value !== undefined && value !== '' : value !== undefined
  const expand = (t: string) => substitute(t, lookup, onUnset, depth + 1)
  switch (op) {
    case '-':
      return present ? (value as string) : expand(arg)
    case '+':
      return present ? expand(arg) : ''
    case '?':
      if (present) return value as string
      throw new TemplateError(`required variable ${name} is missing a value${arg ? `: ${expand(arg)}` : ''}`)
  }
  return ''
}

function resolve(name: string, lookup: Lookup, onUnset?: (name: string) => void): string {
  const value = lookup(name)
  if (value === undefined) {
    onUnset?.(name)
    return ''
  }
  return value
}

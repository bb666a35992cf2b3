import type { ScalarTag, Tags } from 'yaml'

/**
 * Numbers as Compose reads them. compose-go parses with gopkg.in/yaml.v3,
 * which does not follow the YAML 1.2 core schema for plain scalars that begin
 * with a digit or a sign: it drops every `_`, then reads the rest as Go reads
 * an integer literal (strconv.ParseInt with base 0), so `0440` is octal 288
 * like `0o440`, `0x1F` is 31, `0b101` is 5, `+0440` is 288 and `1_000` is
 * 1000; what is not an integer but looks like a float is a float (`08` is 8,
 * `1_000.5` is 1000.5). The core schema would read `0440` as 440 and `1_000`
 * as a string, so `mode: 0440` or `VAR: 0555` would mean something else in
 * pier than in Docker Compose. Quoted scalars stay strings in both.
 */

/** Go's integer literal once the underscores are gone: a sign, then hex, octal (`0o` or a bare leading 0), binary or decimal. */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/
/** yaml.v3's float syntax (no `.inf`/`.nan` here: the core schema's own tag reads those, as yaml.v3 does). */
const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/

/**
 * A pattern matched against the scalar with its underscores removed, and only
 * when the scalar begins with a digit or a sign (yaml.v3 leaves `_1` a
 * string). The yaml package only ever calls `test` on a tag's pattern.
 */
class DigitsPattern extends RegExp {
  override test(text: string): boolean {
    const first = text.charCodeAt(0)
    const digitOrSign = (first >= 48 && first <= 57) || first === 43 || first === 45
    return digitOrSign && super.test(withoutUnderscores(text))
  }
}

/** The two rules above as the tests both parsers apply to a plain scalar (parse-fast.ts reads numbers with them too). */
export const goIntPattern: RegExp = new DigitsPattern(GO_INT.source)
export const goFloatPattern: RegExp = new DigitsPattern(GO_FLOAT.source)

function withoutUnderscores(text: string): string {
  return text.includes('_') ? text.replaceAll('_', '') : text
}

export function goFloat(text: string): number {
  return Number(withoutUnderscores(text))
}

const RADIX: Record<string, number> = { x: 16, o: 8, b: 2 }

export function goInt(text: string): number {
  const literal = withoutUnderscores(text)
  const signed = literal[0] === '-' || literal[0] === '+'
  const digits = signed ? literal.slice(1) : literal
  const prefix = /^0[xXoObB]/.test(digits) ? digits[1].toLowerCase() : undefined
  // A bare leading zero is octal too (`0440`), as in Go before the `0o` prefix existed.
  const radix = prefix ? RADIX[prefix] : digits.length > 1 && digits[0] === '0' ? 8 : 10
  const value = parseInt(prefix ? digits.slice(2) : digits, radix)
  // `-0` is 0, as in Go.
  return literal[0] === '-' && value !== 0 ? -value : value
}

/**
 * The core schema's tags with its three integer tags replaced by yaml.v3's
 * integer rule, and a float tag for yaml.v3's underscored floats ahead of the
 * core ones (which still read `.5`, `.inf` and `.nan`).
 */
export function composeNumberTags(tags: Tags): Tags {
  const isInt = (tag: Tags[number]) => typeof tag === 'object' && tag.tag === 'tag:yaml.org,2002:int'
  const coreInt = tags.find((tag) => isInt(tag) && !(tag as ScalarTag).format) as ScalarTag
  const coreFloat = tags.find((tag) => typeof tag === 'object' && tag.tag === 'tag:yaml.org,2002:float' && !(tag as ScalarTag).format) as ScalarTag
  const int: ScalarTag = { ...coreInt, test: goIntPattern, resolve: goInt }
  const float: ScalarTag = { ...coreFloat, test: goFloatPattern, resolve: goFloat }
  const out = tags.filter((tag) => !isInt(tag))
  const firstFloat = out.findIndex((tag) => typeof tag === 'object' && tag.tag === 'tag:yaml.org,2002:float')
  out.splice(firstFloat < 0 ? out.length : firstFloat, 0, int, float)
  return out
}

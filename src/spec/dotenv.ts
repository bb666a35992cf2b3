import { SpecError } from './errors.js'
import { displayName } from './source.js'
import { substitute, TemplateError, type Lookup } from './template.js'

/** A variable name: letters and digits of any script, `_ . - [ ]` (compose-go's rule). */
const KEY = /^[\p{L}\p{N}_.\-\[\]]+/u
const EXPORT = /^export[ \t]+/
/** Blanks inside a line, as compose-go's dotenv counts them (not the line break). */
const BLANKS = ' \t\v\f\r\u0085\u00a0'

/**
 * Parses a .env / env_file text the way Compose does (compose-go's dotenv):
 * `KEY=VAL` or `KEY: VAL`, with an optional `export `, comments, single quotes
 * (literal but for `\'`), double quotes (escapes, interpolation, several
 * lines), unquoted values (trimmed, interpolated, ` #` starts a comment), a
 * UTF-8 byte order mark skipped. A bare `KEY` takes its value from `lookup`
 * and is left out when that has none. Interpolation sees `lookup` first,
 * then the keys already in `vars`: those defined earlier in the same file, or
 * given by the caller (earlier --env-file files, the service's environment).
 */
export function parseDotenv(text: string, file: string, lookup: Lookup, vars = new Map<string, string>()): Record<string, string> {
  const expandLookup: Lookup = (name) => lookup(name) ?? vars.get(name)
  const own = new Map<string, string>()
  const set = (key: string, value: string) => {
    vars.set(key, value)
    own.set(key, value)
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  let pos = 0
  let line = 1
  // The line a problem is reported on: the start of the entry being read.
  let entryLine = 1
  const fail = (message: string): never => {
    throw new SpecError('env-file', message, { loc: { file: displayName(file), line: entryLine, col: 1 } })
  }
  const expand = (value: string): string => {
    try {
      return substitute(value, expandLookup)
    } catch (err) {
      if (err instanceof TemplateError) return fail(err.message)
      throw err
    }
  }

  while (pos < text.length) {
    let end = text.indexOf('\n', pos)
    if (end < 0) end = text.length
    const startLine = line
    entryLine = line
    // `at` walks the current line by absolute offset, so a quoted value can run past its end.
    let at = skipBlanks(text, pos, end)
    pos = end + 1
    line++
    if (at >= end || text[at] === '#') continue
    const exported = EXPORT.exec(text.slice(at, end))
    if (exported) at = skipBlanks(text, at + exported[0].length, end)

    const key = KEY.exec(text.slice(at, end))?.[0]
    if (!key) fail(`invalid line "${text.slice(at, end).trim()}": expected KEY=VALUE`)
    at = skipBlanks(text, at + key!.length, end)
    if (at >= end || text[at] === '#') {
      const inherited = lookup(key!)
      if (inherited !== undefined) set(key!, inherited)
      continue
    }
    if (text[at] !== '=' && text[at] !== ':') {
      fail(`invalid line for ${key}: expected "=" after the variable name (a name has no spaces)`)
    }
    at = skipBlanks(text, at + 1, end)

    const quote = text[at]
    if (quote === "'" || quote === '"') {
      const close = findClosingQuote(text, at + 1, quote)
      if (close < 0) {
        fail(`unterminated ${quote === '"' ? 'double' : 'single'}-quoted value for ${key}`)
      }
      const raw = unescapeQuote(text.slice(at + 1, close), quote)
      set(key!, quote === "'" ? raw : expand(unescapeDouble(raw)))
      let lineEnd = text.indexOf('\n', close)
      if (lineEnd < 0) lineEnd = text.length
      line = startLine + countNewlines(text, at, close)
      entryLine = line
      const trailing = text.slice(close + 1, lineEnd).trim()
      if (trailing !== '' && !trailing.startsWith('#')) fail(`unexpected text after the quoted value of ${key}: ${trailing}`)
      line++
      pos = lineEnd + 1
      continue
    }

    const rest = text.slice(at, end)
    const comment = rest.indexOf(' #')
    set(key!, expand(trimEndBlanks(comment >= 0 ? rest.slice(0, comment) : rest)))
  }
  return Object.fromEntries(own)
}

function skipBlanks(text: string, from: number, to: number): number {
  while (from < to && BLANKS.includes(text[from])) from++
  return from
}

function trimEndBlanks(text: string): string {
  let end = text.length
  while (end > 0 && BLANKS.includes(text[end - 1])) end--
  return text.slice(0, end)
}

function findClosingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') {
      i++
      continue
    }
    if (text[i] === quote) return i
  }
  return -1
}

/** `\` before the quote character is dropped (in both quotes); every other backslash stays for unescapeDouble. */
function unescapeQuote(raw: string, quote: string): string {
  return raw.includes('\\') ? raw.replace(/\\([\s\S])/g, (all, c: string) => (c === quote ? c : all)) : raw
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' }

/**
 * Double-quote escapes as Compose reads them: `\a \b \f \n \r \t \v \\ \"`,
 * octal `\0NNN`; an escaped `$` stays literal through interpolation; any
 * other escape is kept as written.
 */
function unescapeDouble(raw: string): string {
  if (!raw.includes('\\')) return raw
  return raw.replace(/\\(0[0-7]{3}|[\s\S])/g, (all, c: string) => {
    if (c === '$') return '$$'
    if (c.length === 4) {
      const code = parseInt(c.slice(1), 8)
      return code <= 0xff ? String.fromCharCode(code) : all
    }
    return ESCAPES[c] ?? all
  })
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (text[i] === '\n') n++
  return n
}

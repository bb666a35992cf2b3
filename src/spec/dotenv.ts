import { SpecError } from './errors.js'
import { displayName } from './source.js'
import { substitute, TemplateError, type Lookup } from './template.js'

const KEY = /^[A-Za-z0-9_.\-\[\]]+/

/**
 * Parses a .env / env_file text the way Compose does (compose-go's dotenv):
 * `KEY=VAL` with an optional `export `, comments, single quotes (literal),
 * double quotes (escapes, interpolation, several lines), unquoted values
 * (trimmed, interpolated, ` #` starts a comment). A bare `KEY` takes its value
 * from `lookup` and is left out when that has none. Interpolation sees
 * `lookup` first, then the keys defined earlier in the same file.
 */
export function parseDotenv(text: string, file: string, lookup: Lookup): Record<string, string> {
  const vars = new Map<string, string>()
  const expandLookup: Lookup = (name) => lookup(name) ?? vars.get(name)
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
    if (at >= end || text[at] === '#' || text[at] === '\r') continue
    if (text.startsWith('export ', at)) at = skipBlanks(text, at + 7, end)

    const key = KEY.exec(text.slice(at, end))?.[0]
    if (!key) fail(`invalid line "${text.slice(at, end).trim()}": expected KEY=VALUE`)
    at = skipBlanks(text, at + key!.length, end)
    if (at >= end || text[at] === '#' || text[at] === '\r') {
      const inherited = lookup(key!)
      if (inherited !== undefined) vars.set(key!, inherited)
      continue
    }
    if (text[at] !== '=') {
      fail(`invalid line for ${key}: expected "=" after the variable name`)
    }
    at = skipBlanks(text, at + 1, end)

    const quote = text[at]
    if (quote === "'" || quote === '"') {
      const close = findClosingQuote(text, at + 1, quote)
      if (close < 0) {
        fail(`unterminated ${quote === '"' ? 'double' : 'single'}-quoted value for ${key}`)
      }
      const raw = text.slice(at + 1, close)
      vars.set(key!, quote === "'" ? raw : expand(unescapeDouble(raw)))
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
    const comment = rest.search(/\s#/)
    vars.set(key!, expand((comment >= 0 ? rest.slice(0, comment) : rest).trim()))
  }
  return Object.fromEntries(vars)
}

function skipBlanks(text: string, from: number, to: number): number {
  while (from < to && (text[from] === ' ' || text[from] === '\t')) from++
  return from
}

function findClosingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') {
      i++
      continue
    }
    if (text[i] === quote) return i
  }
  return -1
}

/** Double-quote escapes; an escaped `$` is kept literal through interpolation. */
function unescapeDouble(raw: string): string {
  return raw.replace(/\\(.)/gs, (_, c: string) => {
    switch (c) {
      case 'n': return '\n'
      case 't': return '\t'
      case 'r': return '\r'
      case '$': return '$$'
      default: return c
    }
  })
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (text[i] === '\n') n++
  return n
}

import { readFile, stat } from 'node:fs/promises'
import { EngineError } from '../../errors.js'
import { posix } from 'node:path'
import { resolveInRoot } from '../fs/resolve.js'

/**
 * `.dockerignore` as Docker reads it (moby's patternmatcher): one pattern a
 * line, `#` comments, `!` re-includes, a leading `/` means nothing (patterns
 * are relative to the context), `*` and `?` stay within one path component,
 * `**` spans any number of them, and a pattern that matches a directory
 * excludes everything under it. The last pattern that matches decides.
 *
 * Hand-written because the libraries that fit (@balena/dockerignore,
 * `ignore`) are not in pier's dependencies and cannot be fetched here; and
 * `ignore` follows .gitignore's rules, which differ (a pattern without `/`
 * matches at any depth in .gitignore, only at the top in .dockerignore).
 * minimatch (present) has no "a parent matched" rule nor Docker's last-match
 * semantics, which are the point.
 */
export interface DockerIgnore {
  /** Whether `rel` (a context-relative, slash-separated path) is left out. */
  ignored(rel: string): boolean
  /** Some `!` pattern exists: an excluded directory may still hold included files. */
  hasExceptions: boolean
  /** The patterns as read, for the cache key: a changed .dockerignore changes what COPY sees. */
  patterns: string[]
}

interface Pattern {
  regex: RegExp
  exclusion: boolean
}

export function parseDockerIgnore(text: string): DockerIgnore {
  const patterns: Pattern[] = []
  const lines: string[] = []
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim()
    if (!line || line.startsWith('#')) continue
    lines.push(line)
    const exclusion = line.startsWith('!')
    if (exclusion) line = line.slice(1).trim()
    line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '')
    if (!line || line === '.') continue
    patterns.push({ regex: toRegex(line), exclusion })
  }
  const ignored = (rel: string) => {
    const path = posix.normalize(rel).replace(/^\/+/, '')
    const parents = path.split('/').slice(0, -1)
    let matched = false
    for (const p of patterns) {
      if (p.exclusion !== matched) continue
      let hit = p.regex.test(path)
      for (let n = 1; !hit && n <= parents.length; n++) hit = p.regex.test(parents.slice(0, n).join('/'))
      if (hit) matched = !p.exclusion
    }
    return matched
  }
  return { ignored, hasExceptions: patterns.some((p) => p.exclusion), patterns: lines }
}

function toRegex(pattern: string): RegExp {
  let out = ''
  for (let n = 0; n < pattern.length; n++) {
    const c = pattern[n]
    if (c === '*' && pattern[n + 1] === '*') {
      n++
      if (pattern[n + 1] === '/') {
        n++
        out += '(?:.*/)?'
      } else out += '.*'
    } else if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else if (c === '\\' && n + 1 < pattern.length) out += escape(pattern[++n])
    else if (c === '[') {
      const end = pattern.indexOf(']', n + 1)
      if (end < 0) out += '\\['
      else {
        out += `[${pattern.slice(n + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`
        n = end
      }
    } else out += escape(c)
  }
  return new RegExp(`^${out}$`)
}

const escape = (c: string) => c.replace(/[.+^${}()|[\]\\/*?]/g, '\\$&')

/** The context's .dockerignore (read inside the context: a link there is resolved as the context sees it), or nothing ignored. */
export async function readDockerIgnore(context: string): Promise<DockerIgnore> {
  const path = await resolveInRoot(context, '.dockerignore', { what: 'the build context' }).catch(() => undefined)
  const info = path ? await stat(path).catch(() => undefined) : undefined
  // Only a regular file of a sane size: a fifo would block the build forever, a device would never end.
  if (info && (!info.isFile() || info.size > 1024 * 1024)) throw new EngineError('invalid', `the build context's .dockerignore is not a regular file of up to 1 MiB`)
  const text = path && info ? await readFile(path, 'utf8') : ''
  return parseDockerIgnore(text)
}

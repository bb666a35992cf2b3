import { posix } from 'node:path'

/**
 * `.dockerignore` patterns as Docker reads them (moby's patternmatcher): one
 * pattern a line, `#` comments, `!` re-includes, a leading `/` means
 * nothing (patterns are relative to the context), `*`, `?` and `[…]` stay
 * within one path component, `**` spans any number of them, a pattern that
 * matches a directory matches everything under it, and the last pattern
 * that matches decides. One matcher for every user of the rules: the
 * embedded builder, the docker driver's build context, and `watch`.
 *
 * Hand-written because the libraries that would fit (@balena/dockerignore)
 * are not in pier's dependencies and could not be fetched here, and `ignore`
 * follows .gitignore's rules, which differ (a pattern without `/` matches at
 * any depth in .gitignore, only at the top in .dockerignore).
 */
export class DockerIgnore {
  /** The pattern lines as written (comments and blanks dropped): the builder's cache key includes them. */
  readonly patterns: string[] = []
  private readonly compiled: { regex: RegExp; exception: boolean }[] = []

  constructor(lines: string | string[]) {
    for (const raw of typeof lines === 'string' ? lines.split(/\r?\n/) : lines) {
      let line = raw.trim()
      if (!line || line.startsWith('#')) continue
      this.patterns.push(line)
      const exception = line.startsWith('!')
      if (exception) line = line.slice(1).trim()
      line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '')
      if (!line || line === '.') continue
      this.compiled.push({ regex: toRegex(line), exception })
    }
  }

  get empty(): boolean {
    return this.compiled.length === 0
  }

  /** Some `!` pattern exists: a matched directory may still hold files that are not. */
  get hasExceptions(): boolean {
    return this.compiled.some((p) => p.exception)
  }

  /** Whether `rel` (relative, slash-separated) is matched: by itself or through a parent directory. */
  ignored(rel: string): boolean {
    const path = posix.normalize(rel).replace(/^\/+/, '')
    const parts = path.split('/')
    let matched = false
    for (const p of this.compiled) {
      // Only a pattern that could change the verdict needs testing.
      if (p.exception !== matched) continue
      for (let n = 1; n <= parts.length; n++) {
        if (p.regex.test(parts.slice(0, n).join('/'))) {
          matched = !p.exception
          break
        }
      }
    }
    return matched
  }

  /** Whether nothing under directory `rel` can be re-included by an exception: only then may a walk skip it whole. */
  ignoresWholeDir(rel: string): boolean {
    return !this.hasExceptions && this.ignored(rel)
  }
}

function toRegex(pattern: string): RegExp {
  let out = ''
  for (let n = 0; n < pattern.length; n++) {
    const c = pattern[n]
    if (c === '*' && pattern[n + 1] === '*') {
      n++
      // `**/` also matches no directory at all.
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

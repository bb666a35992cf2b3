import { homedir } from 'node:os'
import { isAbsolute, join, posix, resolve } from 'node:path'
import { isPlainDict, type Dict } from './data.js'

/**
 * Relative paths of a file that is not one of the project's `-f` files (an
 * extended service's file, an included project) resolve against that file's
 * own directory. These helpers make them absolute before that file's content
 * joins the project, so normalization can treat every path the same way.
 */

/** `~` is the user's home; a relative path is taken against `base`. */
export function resolvePath(base: string, path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return isAbsolute(path) ? path : resolve(base, path)
}

/** Build contexts may be URLs (git, http) or `name:` references, which are not paths. */
export function isRemoteContext(context: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/|github\.com\/|ssh:\/\/)/.test(context) || /^[a-z]+-?[a-z]*:\/\//.test(context)
}

/** A short volume source is a path when it starts like one; otherwise it names a volume. */
export function isPathSource(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~')
}

/**
 * `additional_contexts` values that are paths become absolute; images
 * (`docker-image://`), `service:` references and URLs stay as written.
 */
export function absoluteContexts(value: unknown, base: string): unknown {
  const fix = (v: string) => (/^[a-z][a-z0-9+.-]*:/i.test(v) || isRemoteContext(v) ? v : resolvePath(base, v))
  if (isPlainDict(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? fix(v) : v]))
  if (Array.isArray(value)) {
    return value.map((item) => {
      const text = String(item)
      const eq = text.indexOf('=')
      return eq < 0 ? item : `${text.slice(0, eq)}=${fix(text.slice(eq + 1))}`
    })
  }
  return value
}

export function rebaseService(service: unknown, base: string): unknown {
  if (!isPlainDict(service)) return service
  const out: Dict = { ...service }
  const rel = (p: unknown) => (typeof p === 'string' ? resolvePath(base, p) : p)

  if (typeof out.build === 'string') {
    if (!isRemoteContext(out.build)) out.build = rel(out.build)
  } else if (isPlainDict(out.build)) {
    // A build without a context is left without one: it defaults to the project directory, not this
    // file's, and an extending service that only sets `target` keeps its base's context (compose-go).
    const build: Dict = { ...out.build }
    if (typeof build.context === 'string' && !isRemoteContext(build.context)) build.context = rel(build.context)
    if (build.additional_contexts !== undefined) build.additional_contexts = absoluteContexts(build.additional_contexts, base)
    out.build = build
  }
  if (out.env_file !== undefined) {
    const list = Array.isArray(out.env_file) ? out.env_file : [out.env_file]
    out.env_file = list.map((e) => (isPlainDict(e) ? { ...e, path: rel(e.path) } : rel(e)))
  }
  if (out.label_file !== undefined) {
    out.label_file = (Array.isArray(out.label_file) ? out.label_file : [out.label_file]).map(rel)
  }
  if (Array.isArray(out.volumes)) {
    out.volumes = out.volumes.map((v) => {
      if (typeof v === 'string') {
        const cut = v.indexOf(':')
        return cut > 0 && v.startsWith('.') ? `${rel(v.slice(0, cut))}${v.slice(cut)}` : v
      }
      if (isPlainDict(v) && v.type === 'bind' && typeof v.source === 'string') return { ...v, source: rel(v.source) }
      return v
    })
  }
  if (isPlainDict(out.extends) && typeof out.extends.file === 'string') out.extends = { ...out.extends, file: rel(out.extends.file) }
  if (isPlainDict(out.develop) && Array.isArray(out.develop.watch)) {
    out.develop = { ...out.develop, watch: out.develop.watch.map((w) => (isPlainDict(w) ? { ...w, path: rel(w.path) } : w)) }
  }
  return out
}

/** Rebases every service and the `file:` of secrets and configs of a whole document. */
export function rebaseDocument(doc: Dict, base: string): Dict {
  const out: Dict = { ...doc }
  if (isPlainDict(doc.services)) {
    out.services = Object.fromEntries(Object.entries(doc.services).map(([name, s]) => [name, rebaseService(s, base)]))
  }
  for (const section of ['secrets', 'configs'] as const) {
    const entries = doc[section]
    if (!isPlainDict(entries)) continue
    out[section] = Object.fromEntries(
      Object.entries(entries).map(([name, e]) => [name, isPlainDict(e) && typeof e.file === 'string' ? { ...e, file: resolvePath(base, e.file) } : e]),
    )
  }
  return out
}

/** A container path as compose-go cleans it; most are clean already, and are returned as they are. */
export function cleanPath(path: string): string {
  if (!/\/\.|\/\/|.\/$/.test(path)) return path || '.'
  const clean = posix.normalize(path)
  return clean.length > 1 ? clean.replace(/\/$/, '') : clean
}

import { readFileSync } from 'node:fs'
import { posix, relative, sep } from 'node:path'
import { DockerIgnore } from '../engine/dockerignore.js'
import type { Service, WatchRule } from '../spec/project.js'

/**
 * Which rule a changed host path falls under, and where it lands in the
 * container. Patterns follow `.dockerignore` (Go's filepath.Match plus `**`,
 * `!` exceptions, last match wins, a matched directory matching everything
 * under it), relative to the rule's `path`, as Compose reads them.
 */

/**
 * Files no one means to sync: version control and editors' temporary files
 * (the list Compose keeps in pkg/watch/ephemeral.go).
 */
const IMPLICIT = new DockerIgnore(['.git', '**/.git', '**/*.swp', '**/*.swx', '**/.*.swp', '**/*~', '**/4913', '**/#*#', '**/.#*', '**/*___jb_tmp___', '**/*___jb_old___', '**/*.kate-swp', '**/.goutputstream-*'])

/** A watch rule of a service, ready to match host paths. */
export interface CompiledRule {
  service: string
  index: number
  rule: WatchRule
  ignore: DockerIgnore
  include?: DockerIgnore
}

/**
 * The rule's matcher: the build context's `<Dockerfile>.dockerignore` or
 * `.dockerignore` (when the rule's path lies under the context, its patterns
 * re-rooted at the rule's path), then the rule's own `ignore`.
 */
export function compileRule(service: Service, index: number): CompiledRule {
  const rule = service.develop!.watch![index]
  const lines: string[] = []
  const context = service.build?.context
  if (context && !/^[a-z]+:\/\//.test(context)) {
    const under = relative(context, rule.path).split(sep).join('/')
    if (under === '' || (!under.startsWith('..') && !under.startsWith('/'))) {
      const dockerfile = service.build?.dockerfile ? posix.basename(service.build.dockerfile) : 'Dockerfile'
      const text = readOptional(`${context}/${dockerfile}.dockerignore`) ?? readOptional(`${context}/.dockerignore`) ?? ''
      for (const line of text.split(/\r?\n/)) lines.push(reroot(line.trim(), under))
    }
  }
  lines.push(...(rule.ignore ?? []))
  return { service: service.name, index, rule, ignore: new DockerIgnore(lines.filter((l) => l !== '')), ...(rule.include?.length ? { include: new DockerIgnore(rule.include) } : {}) }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** A context-relative pattern made relative to a rule path `under` the context (dropped when it cannot apply there). */
function reroot(line: string, under: string): string {
  if (line === '' || line.startsWith('#') || under === '') return line
  const negate = line.startsWith('!')
  const body = (negate ? line.slice(1) : line).trim().replace(/^\/+/, '')
  // `**/x` applies at any depth; others only when they start with the rule's path.
  if (body.startsWith('**')) return line
  if (body === under || !body.startsWith(`${under}/`)) return body === under ? `${negate ? '!' : ''}**` : ''
  return `${negate ? '!' : ''}${body.slice(under.length + 1)}`
}

/** A host path relative to the rule's path, `/`-separated; undefined when outside it. */
export function relativeTo(rule: WatchRule, hostPath: string): string | undefined {
  if (hostPath === rule.path) return ''
  const rel = relative(rule.path, hostPath)
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return undefined
  return rel.split(sep).join('/')
}

/** Whether a changed path triggers the rule: under its path, not ignored, included when `include` is given. */
export function ruleMatches(compiled: CompiledRule, hostPath: string, isDir = false): boolean {
  const rel = relativeTo(compiled.rule, hostPath)
  if (rel === undefined) return false
  if (rel === '') return true
  if (IMPLICIT.ignored(rel) || compiled.ignore.ignored(rel)) return false
  // `include` selects files; a directory is kept so that what is under it can be included.
  if (compiled.include && !isDir && !compiled.include.ignored(rel)) return false
  return true
}

/** Whether the watcher may skip a directory outright: every rule that covers it ignores all of it. */
export function skipDirectory(rules: CompiledRule[], hostDir: string): boolean {
  const covering = rules.filter((r) => relativeTo(r.rule, hostDir) !== undefined)
  if (covering.length === 0) return false
  return covering.every((r) => {
    const rel = relativeTo(r.rule, hostDir)!
    return rel !== '' && (IMPLICIT.ignoresWholeDir(rel) || r.ignore.ignoresWholeDir(rel))
  })
}

/** The container path of a host path under a sync rule: `target/<rel>`, always `/`-joined. */
export function containerPath(rule: WatchRule, hostPath: string): string | undefined {
  const rel = relativeTo(rule, hostPath)
  if (rel === undefined || rule.target === undefined) return undefined
  return rel === '' ? rule.target : posix.join(rule.target, rel)
}

/** Why a rule cannot be used, in one line, or undefined when it can. */
export function ruleProblem(service: string, index: number, rule: WatchRule, exists: (p: string) => boolean): string | undefined {
  const where = `service "${service}" develop.watch[${index}]`
  if (!exists(rule.path)) return `${where}: path ${rule.path} does not exist: create it or fix the path`
  if (rule.action.startsWith('sync')) {
    if (!rule.target) return `${where}: action ${rule.action} needs a target (the directory in the container to sync ${rule.path} to)`
    if (!rule.target.startsWith('/')) return `${where}: target "${rule.target}" must be an absolute path in the container`
    if (rule.target.split('/').includes('..')) return `${where}: target "${rule.target}" leaves the container's root with "..": give a path inside it`
  }
  if (rule.action === 'sync+exec' && !rule.exec?.command?.length) return `${where}: action sync+exec needs exec.command`
  return undefined
}

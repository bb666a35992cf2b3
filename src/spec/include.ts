import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseDotenv } from './dotenv.js'
import { SpecError } from './errors.js'
import { readComposeFile, type FileContext } from './files.js'
import { mergeDocuments, mergeService, mergeValue } from './merge.js'
import { describeProblem, MAX_ENV_FILE, ReadError, readRegularFile } from './read.js'
import { isPlainDict, type Dict } from './data.js'
import { rebaseDocument, resolvePath } from './paths.js'
import { displayName } from './source.js'
import type { Lookup } from './template.js'

const SECTIONS = ['services', 'networks', 'volumes', 'secrets', 'configs', 'models'] as const

/**
 * Reads a Compose file and the projects it includes. Each included project is
 * loaded on its own terms — its own .env (or `env_file`), its relative paths
 * (extends files included) against its own project directory — and its
 * resources are added to the including file's. An include cycle is an error.
 */
export async function readWithIncludes(
  path: string,
  lookup: Lookup,
  ctx: FileContext,
  processEnv: Record<string, string | undefined>,
  chain: string[] = [],
  projectDir?: string,
): Promise<Dict> {
  const doc = await readComposeFile(path, lookup, ctx, projectDir)
  if (doc.include === undefined) return doc
  const { include, ...own } = doc
  if (!Array.isArray(include)) return doc // the schema check reports the wrong shape
  const baseDir = dirname(path)

  let result: Dict = own
  for (const [i, entry] of include.entries()) {
    const spec = typeof entry === 'string' ? { path: entry } : isPlainDict(entry) ? entry : undefined
    if (!spec) continue
    const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).map((p) => resolvePath(baseDir, String(p)))
    for (const p of paths) {
      if (p === path || chain.includes(p)) {
        throw new SpecError('include', `include cycle: ${[...chain, path, p].map(displayName).join(' -> ')}`, {
          loc: ctx.sources.locate(`include[${i}]`, path),
          path: `include[${i}]`,
        })
      }
      if (!existsSync(p)) {
        throw new SpecError('include', `included file ${displayName(p)} does not exist`, { loc: ctx.sources.locate(`include[${i}]`, path), path: `include[${i}]` })
      }
    }
    const projectDir = typeof spec.project_directory === 'string' ? resolvePath(baseDir, spec.project_directory) : dirname(paths[0])
    const envFiles =
      spec.env_file === undefined
        ? [join(projectDir, '.env')].filter((f) => existsSync(f))
        : (Array.isArray(spec.env_file) ? spec.env_file : [spec.env_file]).map((f) => resolvePath(baseDir, String(f)))
    // The including project's variables win over the include's env_file (compose-go's Mapping.Merge).
    const dotenv = new Map<string, string>()
    for (const file of envFiles) {
      let text: string
      try {
        text = readRegularFile(file, MAX_ENV_FILE)
      } catch (err) {
        if (!(err instanceof ReadError)) throw err
        throw new SpecError('env-file', `env file ${displayName(file)} of include[${i}] ${describeProblem(err.problem, MAX_ENV_FILE)}`, { loc: ctx.sources.locate(`include[${i}]`, path) })
      }
      parseDotenv(text, file, lookup, dotenv)
    }
    const includedLookup: Lookup = (name) => lookup(name) ?? dotenv.get(name)

    let project: Dict = {}
    for (const p of paths) project = mergeDocuments(project, await readWithIncludes(p, includedLookup, ctx, processEnv, [...chain, path], projectDir))
    project = resolveBareEnvironment(rebaseDocument(project, projectDir), includedLookup)
    result = addResources(result, project)
  }
  return result
}

/**
 * Adds an included project's resources to the including file's; only the
 * resource sections cross over (an included `name:` does not). A resource
 * the including file defines too is merged, the including file's definition
 * over the included one (compose-go's importResource).
 */
function addResources(into: Dict, extra: Dict): Dict {
  const out: Dict = { ...into }
  for (const section of SECTIONS) {
    const add = extra[section]
    if (!isPlainDict(add)) continue
    const merged: Dict = { ...(isPlainDict(into[section]) ? (into[section] as Dict) : {}) }
    for (const [name, value] of Object.entries(add)) {
      if (!(name in merged)) merged[name] = value
      else merged[name] = section === 'services' ? mergeService(value, merged[name]) : mergeValue(value, merged[name])
    }
    out[section] = merged
  }
  return out
}

/**
 * `environment: [VAR]` in an included project takes VAR from the include's
 * own variables (its env_file) when they have it; otherwise it is left for the
 * project's variables, as compose-go's ResolveEnvironment does.
 */
function resolveBareEnvironment(doc: Dict, lookup: Lookup): Dict {
  if (!isPlainDict(doc.services)) return doc
  const services: Dict = {}
  for (const [name, service] of Object.entries(doc.services)) {
    if (!isPlainDict(service) || !Array.isArray(service.environment)) {
      services[name] = service
      continue
    }
    const environment = service.environment.map((entry) => {
      if (typeof entry !== 'string' || entry.includes('=')) return entry
      const value = lookup(entry)
      return value === undefined ? entry : `${entry}=${value}`
    })
    services[name] = { ...service, environment }
  }
  return { ...doc, services }
}

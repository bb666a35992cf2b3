import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { parseDotenv } from './dotenv.js'
import { SpecError } from './errors.js'
import { readComposeFile, type FileContext } from './files.js'
import { mergeDocuments } from './merge.js'
import { isPlainDict, type Dict } from './data.js'
import { rebaseDocument, resolvePath } from './paths.js'
import { displayName } from './source.js'
import type { Lookup } from './template.js'

const SECTIONS = ['services', 'networks', 'volumes', 'secrets', 'configs', 'models'] as const

/**
 * Reads a Compose file and the projects it includes. Each included project is
 * loaded on its own terms — its own .env (or `env_file`), its relative paths
 * against its own project directory — and its resources are added to the
 * including file's. Defining the same resource differently in both is an
 * error, and so is an include cycle.
 */
export async function readWithIncludes(
  path: string,
  lookup: Lookup,
  ctx: FileContext,
  processEnv: Record<string, string | undefined>,
  chain: string[] = [],
): Promise<Dict> {
  const doc = await readComposeFile(path, lookup, ctx)
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
    const dotenv: Record<string, string> = {}
    for (const file of envFiles) {
      const text = await readFile(file, 'utf8').catch(() => {
        throw new SpecError('env-file', `env file ${displayName(file)} of include[${i}] not found`, { loc: ctx.sources.locate(`include[${i}]`, path) })
      })
      Object.assign(dotenv, parseDotenv(text, file, (k) => processEnv[k] ?? dotenv[k]))
    }
    const includedLookup: Lookup = (name) => processEnv[name] ?? dotenv[name]

    let project: Dict = {}
    for (const p of paths) project = mergeDocuments(project, await readWithIncludes(p, includedLookup, ctx, processEnv, [...chain, path]))
    result = addResources(result, rebaseDocument(project, projectDir), path, ctx, `include[${i}]`)
  }
  return result
}

/**
 * Adds an included project's resources to the including file's; only the
 * resource sections cross over (an included `name:` does not). The same name
 * defined two different ways is an error.
 */
function addResources(into: Dict, extra: Dict, path: string, ctx: FileContext, where: string): Dict {
  const out: Dict = { ...into }
  for (const section of SECTIONS) {
    const add = extra[section]
    if (!isPlainDict(add)) continue
    const existing = isPlainDict(into[section]) ? (into[section] as Dict) : {}
    for (const [name, value] of Object.entries(add)) {
      if (name in existing && !isDeepStrictEqual(existing[name], value)) {
        throw new SpecError('include', `${section}.${name} is defined both by ${where} and by ${displayName(path)} or another include: rename one of them`, {
          loc: ctx.sources.locate(`${section}.${name}`, path) ?? ctx.sources.locate(where, path),
        })
      }
    }
    out[section] = { ...existing, ...add }
  }
  return out
}

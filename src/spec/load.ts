import { existsSync, readFileSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'
import { Cast } from './cast.js'
import { checkProjectName, discoverFiles, nameFromDirectory } from './discover.js'
import { parseDotenv } from './dotenv.js'
import { SpecError } from './errors.js'
import { applyExtends } from './extends.js'
import { STDIN, type FileContext } from './files.js'
import { readWithIncludes } from './include.js'
import { mergeDocuments, stripMarkers } from './merge.js'
import { normalizeProject } from './normalize.js'
import { isPlainDict, type Dict } from './data.js'
import { declaredProfiles, selectProfiles } from './profiles.js'
import type { Project } from './project.js'
import { checkReferences } from './references.js'
import { displayName, Sources, type FieldPath } from './source.js'
import { validateSchema } from './validate.js'

export interface LoadOptions {
  /** `-f` files, in order; `-` reads standard input. Default: COMPOSE_FILE, then discovery. */
  files?: string[]
  projectDirectory?: string
  projectName?: string
  /** `--env-file`, in order (later wins). Default: `.env` in the project directory. */
  envFiles?: string[]
  /** `--profile`; default: COMPOSE_PROFILES. */
  profiles?: string[]
  /** Services named on the command line: they must exist, and their profiles are enabled. */
  services?: string[]
  /** Substitute variables (default true); `pier config --no-interpolate` turns it off. */
  interpolate?: boolean
  cwd?: string
  /** The process environment (default process.env); it wins over .env. */
  environment?: Record<string, string | undefined>
  /** Where warnings go (default: standard error). */
  onWarning?: (message: string) => void
  /** Standard input, for `-f -` (default: process.stdin). */
  stdin?: () => Promise<string>
}

/** The merged document before normalization, and what was decided on the way. */
export interface Model {
  /** The merged, interpolated, validated document with only the active services. */
  document: Dict
  name: string
  workingDir: string
  configFiles: string[]
  envFiles: string[]
  environment: Record<string, string>
  profiles: string[]
  /** Every profile declared by any service. */
  declaredProfiles: string[]
}

/** Loads, merges, validates and normalizes a project: the whole spec stage. */
export async function loadProject(options: LoadOptions = {}): Promise<Project> {
  const { model, full, active, sources } = await loadStages(options)
  const fail = failAt(sources)
  const cast = new Cast(fail)
  const project = normalizeProject(full, { ...model, active, profiles: model.profiles }, cast)
  checkReferences(project, fail)
  return project
}

/** Loads a project without normalizing it (`pier config --no-normalize`, `--no-interpolate`). */
export async function loadModel(options: LoadOptions = {}): Promise<Model> {
  return (await loadStages(options)).model
}

async function loadStages(options: LoadOptions) {
  const cwd = resolve(options.cwd ?? process.cwd())
  const processEnv = options.environment ?? process.env
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`))
  const sources = new Sources()

  let files = (options.files ?? []).map((f) => (f === STDIN ? f : resolve(cwd, f)))
  const dirOf = (fs: string[]) => (options.projectDirectory ? resolve(cwd, options.projectDirectory) : fs.length > 0 && fs[0] !== STDIN ? dirname(fs[0]) : cwd)

  // .env is read before discovery, because it may set COMPOSE_FILE; if discovery
  // then finds the project in a parent directory, that directory's .env applies.
  let workingDir = dirOf(files)
  let dot = readEnvFiles(options.envFiles, cwd, workingDir, processEnv)
  let env = mergeEnv(dot.values, processEnv)
  if (files.length === 0) {
    if (env.COMPOSE_FILE) {
      const separator = env.COMPOSE_PATH_SEPARATOR || delimiter
      files = env.COMPOSE_FILE.split(separator).filter(Boolean).map((f) => resolve(workingDir, f))
    } else {
      const discovered = discoverFiles(cwd)
      discovered.warnings.forEach(warn)
      files = discovered.files
    }
    const dir = dirOf(files)
    if (dir !== workingDir) {
      workingDir = dir
      dot = readEnvFiles(options.envFiles, cwd, workingDir, processEnv)
      env = mergeEnv(dot.values, processEnv)
    }
  }

  const ctx: FileContext = {
    sources,
    interpolate: options.interpolate ?? true,
    warn,
    warnedUnset: new Set(),
    stdin: options.stdin ?? readStdin,
  }
  const lookup = (name: string) => env[name]
  let merged: Dict = {}
  for (const file of files) merged = mergeDocuments(merged, await readWithIncludes(file, lookup, ctx, processEnv))
  if (merged.version !== undefined) warn(`${displayName(files[files.length - 1])}: the "version" attribute is obsolete and ignored; you can remove it`)
  merged = stripMarkers(await applyExtends(merged, lookup, ctx)) as Dict
  await validateSchema(merged, sources)

  const name = projectName(options, env, merged, workingDir)
  const services = isPlainDict(merged.services) ? merged.services : {}
  const enabled = options.profiles ?? (env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',').map((p) => p.trim()) : [])
  const selection = selectProfiles(services, enabled, options.services ?? [])
  const document: Dict = { ...merged, name }
  delete document.version
  if (isPlainDict(merged.services)) {
    document.services = Object.fromEntries(Object.entries(services).filter(([n]) => selection.active.has(n)))
  }
  const model: Model = {
    document,
    name,
    workingDir,
    configFiles: files.map((f) => (f === STDIN ? join(cwd, '-') : f)),
    envFiles: dot.files,
    environment: env,
    profiles: selection.enabled,
    declaredProfiles: declaredProfiles(services),
  }
  return { model, full: merged, active: selection.active, sources }
}

function projectName(options: LoadOptions, env: Record<string, string>, doc: Dict, workingDir: string): string {
  if (options.projectName) return checkProjectName(options.projectName, '-p')
  if (env.COMPOSE_PROJECT_NAME) return checkProjectName(env.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME')
  if (typeof doc.name === 'string' && doc.name !== '') return checkProjectName(doc.name, 'the top-level name:')
  return nameFromDirectory(workingDir)
}

function readEnvFiles(given: string[] | undefined, cwd: string, workingDir: string, processEnv: Record<string, string | undefined>) {
  const files = given?.map((f) => resolve(cwd, f)) ?? [join(workingDir, '.env')].filter((f) => existsSync(f))
  const values: Record<string, string> = {}
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      throw new SpecError('env-file', `env file ${displayName(file)} not found: check the path given with --env-file`)
    }
    Object.assign(values, parseDotenv(text, file, (k) => processEnv[k] ?? values[k]))
  }
  return { files, values }
}

function mergeEnv(dotenv: Record<string, string>, processEnv: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = { ...dotenv }
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) out[k] = v
  return out
}

function failAt(sources: Sources) {
  return (path: FieldPath, message: string): never => {
    throw new SpecError('invalid-value', message, { loc: sources.locate(path), path })
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

import { existsSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'
import { Cast } from './cast.js'
import { checkValues } from './checks.js'
import { checkProjectName, discoverFiles, nameFromDirectory } from './discover.js'
import { parseDotenv } from './dotenv.js'
import { SpecError } from './errors.js'
import { applyExtends } from './extends.js'
import { parseComposeFile, STDIN, type FileContext } from './files.js'
import { readWithIncludes } from './include.js'
import { mergeDocuments, stripMarkers } from './merge.js'
import { enforceUnicity } from './unicity.js'
import { addImplicitDependencies, normalizeProject } from './normalize.js'
import { isPlainDict, type Dict } from './data.js'
import { declaredProfiles, selectProfiles } from './profiles.js'
import type { Project } from './project.js'
import { describeProblem, MAX_COMPOSE_FILE, MAX_ENV_FILE, ReadError, readRegularFile } from './read.js'
import { checkReferences } from './references.js'
import { displayName, Sources, type FieldPath } from './source.js'
import { substitute, TemplateError } from './template.js'
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
  // Before the implicit dependencies: a cycle through links or volumes_from is the planner's to report (with its chain).
  checkValues(project, full, fail)
  addImplicitDependencies(project)
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
  // The project name is known before interpolation, so `${COMPOSE_PROJECT_NAME}` has it (as in Compose).
  const name = projectName(options, env, await nameInFiles(files, env, ctx), workingDir)
  const lookup = (variable: string) => (variable === 'COMPOSE_PROJECT_NAME' ? name : env[variable])
  let merged: Dict = {}
  for (const [i, file] of files.entries()) {
    // An empty override file changes nothing (compose-go reads no document from it); an empty first file is a mistake.
    if (i > 0 && (await parseComposeFile(file, ctx)).empty) continue
    merged = mergeDocuments(merged, await readWithIncludes(file, lookup, ctx, processEnv))
  }
  if (merged.version !== undefined) warn(`${displayName(files[files.length - 1])}: the "version" attribute is obsolete and ignored; you can remove it`)
  merged = await applyExtends(merged, lookup, ctx)
  if (ctx.markers) merged = stripMarkers(merged) as Dict
  merged = enforceUnicity(merged)
  await validateSchema(merged, sources)

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

function projectName(options: LoadOptions, env: Record<string, string>, fromFiles: string | undefined, workingDir: string): string {
  if (options.projectName) return checkProjectName(options.projectName, '-p')
  if (env.COMPOSE_PROJECT_NAME) return checkProjectName(env.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME')
  if (fromFiles) return checkProjectName(fromFiles, 'the top-level name:')
  return nameFromDirectory(workingDir)
}

/** The `name:` of the last -f file that sets one, interpolated on its own (compose-go's projectName). */
async function nameInFiles(files: string[], env: Record<string, string>, ctx: FileContext): Promise<string | undefined> {
  let raw: unknown
  for (const file of files) {
    const { data } = await parseComposeFile(file, ctx)
    if (typeof data.name === 'string' && data.name !== '') raw = data.name
  }
  if (typeof raw !== 'string' || !ctx.interpolate) return raw as string | undefined
  try {
    return substitute(raw, (variable) => env[variable])
  } catch (err) {
    if (err instanceof TemplateError) throw new SpecError('interpolation', err.message, { loc: ctx.sources.locate('name'), path: 'name' })
    throw err
  }
}

function readEnvFiles(given: string[] | undefined, cwd: string, workingDir: string, processEnv: Record<string, string | undefined>) {
  const files = given?.map((f) => resolve(cwd, f)) ?? [join(workingDir, '.env')].filter((f) => existsSync(f))
  // One map for all the files: a key defined earlier in the same file wins over an earlier file's value (compose-go's GetEnvFromFile).
  const values = new Map<string, string>()
  for (const file of files) {
    let text: string
    try {
      text = readRegularFile(file, MAX_ENV_FILE)
    } catch (err) {
      if (!(err instanceof ReadError)) throw err
      throw new SpecError('env-file', `env file ${displayName(file)} ${describeProblem(err.problem, MAX_ENV_FILE)}: check the path given with --env-file`)
    }
    parseDotenv(text, file, (k) => processEnv[k], values)
  }
  return { files, values: Object.fromEntries(values) }
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
  let size = 0
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length
    if (size > MAX_COMPOSE_FILE) throw new SpecError('file-not-found', `standard input ${describeProblem('too-large', MAX_COMPOSE_FILE)}: give a compose file`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

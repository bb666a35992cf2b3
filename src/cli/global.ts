import { Option, type Command } from 'commander'
import type { EngineName } from '../engine/index.js'
import type { LoadOptions } from '../spec/load.js'
import { UsageError } from '../errors.js'
import type { ProgressMode } from './progress.js'

/** The flags every command shares, as commander parses them. */
export interface GlobalFlags {
  file?: string[]
  projectName?: string
  projectDirectory?: string
  envFile?: string[]
  profile?: string[]
  verbose?: boolean
  progress: ProgressMode
  /** Also 'swarm', served by src/swarm (up, down, ps, logs) rather than an engine driver: see cli/swarm-run.ts. */
  engine: EngineName
  ansi: 'never' | 'always' | 'auto'
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

export function addGlobalOptions(program: Command): Command {
  return program
    .option('-f, --file <path>', 'Compose file (repeatable; "-" reads standard input)', collect)
    .option('-p, --project-name <name>', 'project name')
    .option('--project-directory <path>', 'project directory (default: the directory of the first file)')
    .option('--env-file <path>', 'environment file (repeatable; later files win)', collect)
    .option('--profile <name>', 'enable a profile (repeatable)', collect)
    .option('--progress <mode>', 'progress output: auto, tty, plain, json or quiet', 'auto')
    .addOption(new Option('--ansi <when>', 'control characters (colours, the progress display)').choices(['never', 'always', 'auto']).default('auto'))
    .addOption(new Option('--engine <name>', 'engine: embedded (daemonless, the default), docker, or swarm (DOCKER_HOST at a swarm manager; up -d, down, ps, logs)').env('PIER_ENGINE').default('embedded'))
    .option('--verbose', 'show stack traces and details on errors')
}

/** Whether to colour standard output: --ansi, then NO_COLOR, then whether it is a terminal. */
export function colorOutput(flags: GlobalFlags): boolean {
  if (flags.ansi === 'never') return false
  if (flags.ansi === 'always') return true
  return !!process.stdout.isTTY && !process.env.NO_COLOR
}

/** The progress mode, with --ansi never ruling out the terminal display that --progress auto would pick. */
export function progressMode(flags: GlobalFlags): ProgressMode {
  if (flags.progress === 'auto' && flags.ansi === 'never') return 'plain'
  if (flags.progress === 'auto' && flags.ansi === 'always') return 'tty'
  return flags.progress
}

/** The global flags as load options; services named on the command line enable their profiles. */
export function loadOptions(flags: GlobalFlags, services: string[] = []): LoadOptions {
  return {
    files: flags.file,
    projectName: flags.projectName,
    projectDirectory: flags.projectDirectory,
    envFiles: flags.envFile,
    profiles: flags.profile,
    services,
  }
}

export { requireServices } from '../compose/containers.js'

/** A flag given in seconds (`-t 10`, `--wait-timeout 1.5`): a number, or an error naming the flag. */
export function seconds(text: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`invalid ${flag} "${text}": give a number of seconds`)
  return Number(text)
}

/** A flag in seconds as milliseconds, or undefined when not given. */
export function millis(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : seconds(text, flag) * 1000
}

/** The project the command acts on, loaded with the global flags; `quiet` drops load warnings (ps, logs …). */
export async function loadFor(flags: GlobalFlags, services: string[] = [], options: { quiet?: boolean; allProfiles?: boolean } = {}) {
  const { loadProject } = await import('../spec/load.js')
  return loadProject({ ...loadOptions(flags, services), ...(options.quiet ? { onWarning: () => {} } : {}), ...(options.allProfiles ? { profiles: ['*'] } : {}) })
}

/**
 * The project; where no compose file is found but a project name is given
 * (`-p`, or COMPOSE_PROJECT_NAME in the environment), the project as the
 * engine holds it under that name, as Compose acts on a name alone (`down`,
 * `ps`). Any other load error stands.
 */
export async function loadOrName(flags: GlobalFlags, services: string[], options: { quiet?: boolean; allProfiles?: boolean } = {}) {
  const { SpecError } = await import('../spec/errors.js')
  try {
    return await loadFor(flags, services, options)
  } catch (err) {
    const name = flags.projectName ?? process.env.COMPOSE_PROJECT_NAME
    if (!(err instanceof SpecError && err.code === 'no-config') || !name || flags.file?.length) throw err
    const { projectFromEngine } = await import('../compose/project-of.js')
    return projectFromEngine(await engineFor(flags), name, process.cwd())
  }
}

/** The engine chosen by --engine; swarm is not an engine driver (src/swarm serves its few commands). */
export async function engineFor(flags: GlobalFlags) {
  if ((flags.engine as string) === 'swarm') throw new UsageError('with --engine swarm, pier runs up -d, up --wait, down, ps and logs: use --engine docker on a node for the others')
  const { openEngine } = await import('../engine/index.js')
  return openEngine(flags.engine)
}

/** The orchestration context of a command: the engine chosen by --engine, the CLI's reporter, an optional abort signal. */
export async function contextFor(flags: GlobalFlags, options: { signal?: AbortSignal; quietPull?: boolean } = {}) {
  const { cliReporter } = await import('./reporter.js')
  return {
    engine: await engineFor(flags),
    reporter: cliReporter(progressMode(flags), options.quietPull ? { quietPull: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  }
}

/** COMPOSE_PARALLEL_LIMIT or --parallel, as a number (undefined: unbounded). */
export function parallelLimit(flag: string | undefined): number | undefined {
  const text = flag ?? process.env.COMPOSE_PARALLEL_LIMIT
  if (text === undefined || text === '') return undefined
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`invalid --parallel "${text}": give a whole number of at least 1`)
  return Number(text)
}

/**
 * A COMPOSE_* switch (COMPOSE_REMOVE_ORPHANS, COMPOSE_IGNORE_ORPHANS) as
 * Compose reads it: from the environment, else from the project's .env
 * (the project's environment has both, the process's winning); "1", "t",
 * "true" or "y" in any case is on.
 */
export function composeSwitch(environment: Record<string, string>, name: string): boolean {
  return /^(1|t|true|y)$/i.test((process.env[name] ?? environment[name] ?? '').trim())
}

import { Option, type Command } from 'commander'
import type { EngineName } from '../engine/index.js'
import type { LoadOptions } from '../spec/load.js'
import type { Project } from '../spec/project.js'
import { PlanError } from '../planner/errors.js'
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
    .option('--engine <name>', 'engine: embedded (daemonless, the default) or docker', 'embedded')
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

/** Services named on the command line must exist: an unknown one is an error that lists the project's. */
export function requireServices(project: Project, names: string[]): void {
  for (const name of names) {
    if (!project.services[name]) throw new PlanError('invalid', `no such service: ${name} (the project has ${Object.keys(project.services).sort().join(', ')})`)
  }
}

/** A flag given in seconds (`-t 10`, `--wait-timeout 1.5`): a number, or an error naming the flag. */
export function seconds(text: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new PlanError('invalid', `invalid ${flag} "${text}": give a number of seconds`)
  return Number(text)
}

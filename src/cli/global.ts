import type { Command } from 'commander'
import type { EngineName } from '../engine/index.js'
import type { LoadOptions } from '../spec/load.js'
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
    .option('--engine <name>', 'engine: embedded (daemonless, the default) or docker', 'embedded')
    .option('--verbose', 'show stack traces and details on errors')
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

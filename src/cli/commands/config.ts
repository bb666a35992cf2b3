import type { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { loadOptions, type GlobalFlags } from '../global.js'

interface ConfigFlags {
  format: 'yaml' | 'json'
  quiet?: boolean
  services?: boolean
  volumes?: boolean
  networks?: boolean
  profiles?: boolean
  images?: boolean
  interpolate: boolean
  normalize: boolean
  output?: string
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('validate the project and print it resolved and normalized, as docker compose config does')
    .argument('[services...]', 'only these services')
    .option('--format <format>', 'output format: yaml or json', 'yaml')
    .option('-q, --quiet', 'only validate; print nothing')
    .option('--services', 'print the service names, one per line')
    .option('--volumes', 'print the volume names, one per line')
    .option('--networks', 'print the network names, one per line')
    .option('--profiles', 'print the profile names, one per line')
    .option('--images', 'print the image of each service, one per line')
    .option('--no-interpolate', 'do not substitute variables (prints the merged model as written)')
    .option('--no-normalize', 'do not convert to the long syntax (prints the merged model)')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (services: string[], flags: ConfigFlags, command: Command) => {
      const { config } = await import('./config-run.js')
      const output = await config(loadOptions(command.optsWithGlobals() as GlobalFlags, services), flags, services)
      if (output === undefined) return
      if (flags.output) await writeFile(flags.output, output)
      else process.stdout.write(output)
    })
}

export type { ConfigFlags }

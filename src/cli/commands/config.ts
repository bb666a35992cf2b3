import type { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { loadOptions, type GlobalFlags } from '../global.js'
import { addKubernetesOptions, kubernetesFormat, refuseKubernetesFlags, type KubernetesFlags } from './kubernetes.js'

interface ConfigFlags extends KubernetesFlags {
  format: 'yaml' | 'json' | 'kubernetes'
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

/**
 * `convert` is an alias of `config`, as in Docker Compose, so every config
 * flag means the same under both names; `--format kubernetes` (either name)
 * converts the project to Kubernetes manifests instead, as `pier k8s` does.
 */
export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .alias('convert')
    .description('validate the project and print it resolved and normalized, as docker compose config does (or as Kubernetes manifests: --format kubernetes)')
    .argument('[services...]', 'only these services')
    .option('--format <format>', 'output format: yaml, json or kubernetes', 'yaml')
    .option('-q, --quiet', 'only validate; print nothing')
    .option('--services', 'print the service names, one per line')
    .option('--volumes', 'print the volume names, one per line')
    .option('--networks', 'print the network names, one per line')
    .option('--profiles', 'print the profile names, one per line')
    .option('--images', 'print the image of each service, one per line')
    .option('--no-interpolate', 'do not substitute variables (prints the merged model as written)')
    .option('--no-normalize', 'do not convert to the long syntax (prints the merged model)')
    .option('-o, --output <file>', 'write to this file instead of standard output (with --format kubernetes: or a directory)')
  addKubernetesOptions(config).action(async (services: string[], flags: ConfigFlags, command: Command) => {
    if (flags.format === 'kubernetes') return kubernetesFormat(command.optsWithGlobals() as GlobalFlags, flags, services)
    refuseKubernetesFlags(flags)
    const { config } = await import('./config-run.js')
    const output = await config(loadOptions(command.optsWithGlobals() as GlobalFlags, services), flags, services)
    if (output === undefined) return
    if (flags.output) await writeFile(flags.output, output)
    else process.stdout.write(output)
  })
}

export type { ConfigFlags }

import type { Command } from 'commander'
import type { GlobalFlags } from '../global.js'

/**
 * The rest of Docker's image workflow: `pier image history|import|prune`
 * (added to the `image` group registerImages made), `pier commit` and
 * `pier export` (Compose's, on a service), `pier login`, `pier logout`,
 * `pier search`, `pier builder prune`. Thin: the work is in
 * ./image-commands-run.ts, loaded when one runs.
 */
export function registerImageCommands(program: Command): void {
  const run = async <T extends unknown[]>(command: Command, fn: (m: typeof import('./image-commands-run.js'), flags: GlobalFlags, ...args: T) => Promise<void>, ...args: T) => {
    const m = await import('./image-commands-run.js')
    await fn(m, command.optsWithGlobals() as GlobalFlags, ...args)
  }
  const collect = (value: string, previous: string[] = []) => [...previous, value]
  const image = program.commands.find((c) => c.name() === 'image') ?? program.command('image').description('manage images')

  image
    .command('history')
    .description('the steps that made an image, newest first')
    .argument('<image>', 'an image reference or ID')
    .option('--no-trunc', 'do not shorten IDs and commands')
    .option('-H, --human', 'sizes and dates in human form (the default)')
    .option('--no-human', 'sizes in bytes and dates in RFC 3339')
    .option('-q, --quiet', 'only image IDs')
    .option('--format <format>', 'table or json', 'table')
    .action((ref: string, opts: HistoryFlags, command: Command) => run(command, (m, f) => m.history(f, ref, opts)))
  image
    .command('import')
    .description('make an image from a root filesystem tar (a file, or - for standard input)')
    .argument('<file>', 'a tar archive (plain or gzip), or - for standard input')
    .argument('[reference]', 'a name for the image')
    .option('-c, --change <instruction>', 'a Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK); repeatable', collect, [])
    .option('-m, --message <text>', 'a commit message for the image')
    .action((file: string, ref: string | undefined, opts: { change: string[]; message?: string }, command: Command) => run(command, (m, f) => m.importImage(f, file, ref, opts)))
  image
    .command('prune')
    .description('remove dangling images (with -a: every image no container uses)')
    .option('-a, --all', 'every image no container uses, not only unnamed ones')
    .option('-f, --force', 'do not ask for confirmation')
    .action((opts: { all?: boolean; force?: boolean }, command: Command) => run(command, (m, f) => m.pruneImages(f, opts)))

  program
    .command('commit')
    .description("make an image of a service container's changes")
    .argument('<service>', 'the service')
    .argument('[reference]', 'a name for the image')
    .option('-a, --author <name>', 'the author (such as "Jane <jane@example.com>")')
    .option('-c, --change <instruction>', 'a Dockerfile instruction to apply; repeatable', collect, [])
    .option('-m, --message <text>', 'a commit message')
    .option('-p, --pause', 'pause the container during the commit (the default)')
    .option('--no-pause', 'do not pause it')
    .option('--index <n>', 'which replica of the service (default 1)')
    .action((service: string, ref: string | undefined, opts: CommitFlags, command: Command) => run(command, (m, f) => m.commit(f, service, ref, opts)))
  program
    .command('export')
    .description("write a service container's filesystem as a tar archive")
    .argument('<service>', 'the service')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--index <n>', 'which replica of the service (default 1)')
    .action((service: string, opts: { output?: string; index?: string }, command: Command) => run(command, (m, f) => m.exportFs(f, service, opts)))

  program
    .command('login')
    .description('log in to a registry (default Docker Hub): checked, then saved in ~/.docker/config.json or its credential helper')
    .argument('[server]', 'the registry, host[:port]')
    .option('-u, --username <user>', 'the user name')
    .option('-p, --password <password>', 'the password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .action((server: string | undefined, opts: LoginFlags, command: Command) => run(command, (m, f) => m.login(f, server, opts)))
  program
    .command('logout')
    .description('forget the credentials of a registry (default Docker Hub)')
    .argument('[server]', 'the registry, host[:port]')
    .action((server: string | undefined, _opts: object, command: Command) => run(command, (m, f) => m.logout(f, server)))
  program
    .command('search')
    .description("search a registry's catalog for repositories (HOST/TERM or --registry HOST)")
    .argument('<term>', 'part of a repository name, optionally after HOST/')
    .option('--registry <host>', 'the registry whose catalog to read')
    .option('--limit <n>', 'at most this many results (default 25)')
    .option('--format <format>', 'table or json', 'table')
    .action((term: string, opts: { registry?: string; limit?: string; format: string }, command: Command) => run(command, (m, f) => m.search(f, term, opts)))

  const builder = program.commands.find((c) => c.name() === 'builder') ?? program.command('builder').description('manage the build cache')
  builder
    .command('prune')
    .description('remove the build cache: cached steps, their layers no image uses, and RUN cache mounts')
    .option('-a, --all', 'accepted for Docker compatibility: pier removes the whole cache either way')
    .option('-f, --force', 'do not ask for confirmation')
    .action((opts: { force?: boolean }, command: Command) => run(command, (m, f) => m.pruneBuilder(f, opts)))
}

export interface HistoryFlags {
  trunc: boolean
  human: boolean
  quiet?: boolean
  format: string
}

export interface CommitFlags {
  author?: string
  change: string[]
  message?: string
  pause: boolean
  index?: string
}

export interface LoginFlags {
  username?: string
  password?: string
  passwordStdin?: boolean
}

import type { Command } from 'commander'
import type { GlobalFlags } from '../global.js'

/**
 * Image commands: `pier pull`, `pier push`, `pier images` and the `pier image`
 * group (load, save, ls, inspect, tag, rm, pull, push). Each is a thin layer
 * over the engine; the work happens in ./images-run.ts, loaded when run.
 */
export function registerImages(program: Command): void {
  const run = async <T extends unknown[]>(command: Command, fn: (m: typeof import('./images-run.js'), flags: GlobalFlags, ...args: T) => Promise<void>, ...args: T) => {
    const m = await import('./images-run.js')
    await fn(m, command.optsWithGlobals() as GlobalFlags, ...args)
  }

  program
    .command('pull')
    .description("pull images: the named services' (or all services') images, or image references")
    .argument('[names...]', 'services of the project, or image references')
    .option('--platform <os/arch>', 'the platform to pull (default: this machine)')
    .option('-q, --quiet', 'no progress')
    .action((names: string[], opts: { platform?: string; quiet?: boolean }, command: Command) => run(command, (m, f) => m.pull(f, names, opts)))

  program
    .command('push')
    .description("push images: the named services' (or all services') images, or image references")
    .argument('[names...]', 'services of the project, or image references')
    .action((names: string[], _opts: object, command: Command) => run(command, (m, f) => m.push(f, names)))

  program
    .command('images')
    .description('list the images in the engine')
    .option('--format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'only image IDs')
    .action((opts: { format: string; quiet?: boolean }, command: Command) => run(command, (m, f) => m.list(f, opts)))

  const image = program.command('image').description('manage images')
  image
    .command('ls')
    .description('list the images in the engine')
    .option('--format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'only image IDs')
    .action((opts: { format: string; quiet?: boolean }, command: Command) => run(command, (m, f) => m.list(f, opts)))
  image
    .command('load')
    .description('load images from a docker save or OCI archive')
    .option('-i, --input <file>', 'read from this file instead of standard input')
    .option('-q, --quiet', 'no progress')
    .action((opts: { input?: string; quiet?: boolean }, command: Command) => run(command, (m, f) => m.load(f, opts)))
  image
    .command('save')
    .description('write images to a docker save archive')
    .argument('<images...>', 'image references or IDs')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action((refs: string[], opts: { output?: string }, command: Command) => run(command, (m, f) => m.save(f, refs, opts)))
  image
    .command('inspect')
    .description('print images as JSON')
    .argument('<images...>', 'image references or IDs')
    .action((refs: string[], _opts: object, command: Command) => run(command, (m, f) => m.inspect(f, refs)))
  image
    .command('tag')
    .description('give an image another name')
    .argument('<source>', 'an image reference or ID')
    .argument('<target>', 'the new name')
    .action((source: string, target: string, _opts: object, command: Command) => run(command, (m, f) => m.tag(f, source, target)))
  image
    .command('rm')
    .alias('remove')
    .description('remove image names; an image goes with its last name')
    .argument('<images...>', 'image references or IDs')
    .option('-f, --force', 'remove the image with all its names')
    .action((refs: string[], opts: { force?: boolean }, command: Command) => run(command, (m, f) => m.remove(f, refs, opts)))
  image
    .command('pull')
    .description('pull image references from their registries')
    .argument('<images...>', 'image references')
    .option('--platform <os/arch>', 'the platform to pull (default: this machine)')
    .option('-q, --quiet', 'no progress')
    .action((refs: string[], opts: { platform?: string; quiet?: boolean }, command: Command) => run(command, (m, f) => m.pullRefs(f, refs, opts)))
  image
    .command('push')
    .description('push image references to their registries')
    .argument('<images...>', 'image references')
    .action((refs: string[], _opts: object, command: Command) => run(command, (m, f) => m.pushRefs(f, refs)))
}

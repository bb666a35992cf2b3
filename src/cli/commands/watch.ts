import type { Command } from 'commander'
import type { GlobalFlags } from '../global.js'

/** `pier watch [SERVICE...]`: flags → compose.watch; Ctrl-C stops watching (the containers keep running, as in Compose). */
export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('bring the project up, then sync, restart or rebuild services as their develop.watch files change')
    .argument('[services...]', 'only these services (default: every service with develop.watch)')
    .option('--no-up', 'do not bring the project up first')
    // As in Compose, pruning is the default: --prune is accepted, --no-prune turns it off.
    .option('--prune', 'after a rebuild, remove the image it replaced (the default)')
    .option('--no-prune', 'keep the image a rebuild replaced')
    .option('--quiet', 'no build output')
    .action(async (services: string[], opts: { up: boolean; prune?: boolean; quiet?: boolean }, command: Command) => {
      const flags = command.optsWithGlobals() as GlobalFlags
      const [{ watch }, { contextFor, loadFor }, { interrupts }] = await Promise.all([import('../../compose/watch.js'), import('../global.js'), import('../attach.js')])
      const project = await loadFor(flags, services)
      const ctrlC = interrupts({ onFirst: () => process.stderr.write('Stopping the watch...\n'), onSecond: () => undefined })
      try {
        const ctx = await contextFor(flags, { signal: ctrlC.signal })
        const reporter = opts.quiet ? { ...ctx.reporter, buildOutput: () => undefined } : ctx.reporter
        await watch({ ...ctx, reporter }, project, { services, ...(opts.up ? {} : { noUp: true }), ...(opts.prune !== false ? { prune: true } : {}) })
      } finally {
        ctrlC.dispose()
      }
    })
}

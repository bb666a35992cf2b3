import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import { PierError } from '../errors.js'
import { addGlobalOptions } from './global.js'
import { registerConfig } from './commands/config.js'
import { registerImages } from './commands/images.js'
import { registerLifecycle } from './commands/lifecycle.js'

/**
 * The CLI entry. Each command lives in src/cli/commands/ and loads what it
 * needs when it runs, so `pier --help` and light commands start fast.
 */
export async function main(argv: string[]): Promise<void> {
  const program = addGlobalOptions(new Command('pier'))
    .description('Compose-style multi-container tool: fast, daemonless, exact about the Compose specification')
    // `-v` alone is the version only before any command: `down -v` and `rm -v` mean volumes.
    .version(version(), '--version', 'print the version (also -v, before any command)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })

  registerConfig(program)
  registerLifecycle(program)
  registerImages(program)

  if (argv[2] === '-v') {
    process.stdout.write(`${version()}\n`)
    return
  }
  try {
    await program.parseAsync(argv)
  } catch (err) {
    process.exitCode = report(err, argv.includes('--verbose'))
  }
}

/** Every error ends here: one line for what the user can fix, a stack only for bugs or --verbose. */
function report(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (unknown command or option, with a suggestion).
    return err.exitCode === 0 ? 0 : 1
  }
  if (err instanceof PierError) {
    process.stderr.write(`error: ${err.message}\n`)
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`)
    return err.exitCode
  }
  const message = err instanceof Error ? err.message : String(err)
  process.stderr.write(`error: ${message}\n`)
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
  else process.stderr.write('this looks like a bug in pier: run again with --verbose and report what it prints\n')
  return 2
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

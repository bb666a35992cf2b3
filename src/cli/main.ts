import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../paths.js'
import { AbortError, PierError } from '../errors.js'
import { addGlobalOptions } from './global.js'
import { registerCompletion } from './commands/completion.js'
import { registerConfig } from './commands/config.js'
import { registerContainers } from './commands/containers.js'
import { registerImages } from './commands/images.js'
import { registerKubernetes } from './commands/kubernetes.js'
import { registerLifecycle } from './commands/lifecycle.js'
import { registerWatch } from './commands/watch.js'

/**
 * The CLI entry. Each command lives in src/cli/commands/ and loads what it
 * needs when it runs, so `pier --help` and light commands start fast.
 */
export async function main(argv: string[]): Promise<void> {
  // `pier logs | head`: the reader went away; stop quietly, as a shell tool does, not with a stack.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw err
    })
  }
  const program = addGlobalOptions(new Command('pier'))
    .description('Compose-style multi-container tool: fast, daemonless, exact about the Compose specification')
    // `-v` alone is the version only before any command: `down -v` and `rm -v` mean volumes.
    .version(version(), '--version', 'print the version (also -v, before any command)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })

  registerConfig(program)
  registerLifecycle(program)
  registerContainers(program)
  registerImages(program)
  registerCompletion(program)
  registerWatch(program)
  registerKubernetes(program)

  if (argv[2] === '-v') {
    process.stdout.write(`${version()}\n`)
    return
  }
  try {
    await program.parseAsync(protectCommand(argv, valueOptions(program)))
  } catch (err) {
    process.exitCode = report(err, argv.includes('--verbose'))
  }
}

/**
 * The flags that take a value, of the program and of exec and run, read from
 * their definitions (a hand-kept list went stale as flags were added), for
 * protectCommand.
 */
function valueOptions(program: Command): Set<string> {
  const commands = [program, ...program.commands.filter((c) => c.name() === 'exec' || c.name() === 'run')]
  return new Set(commands.flatMap((c) => c.options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long].filter((f): f is string => !!f))))
}

/**
 * `pier exec web sh -c "…"`, `pier run web sh -c "…"`: everything after the service is the command's,
 * flags included, as in Docker Compose. A `--` after the service tells
 * commander so.
 */
function protectCommand(argv: string[], takesValue: Set<string>): string[] {
  argv = ownShortFlags(argv, takesValue).map((a) => (a === '--no-attach' ? '--skip-attach' : a.startsWith('--no-attach=') ? `--skip-attach=${a.slice(12)}` : a))
  const at = argv.findIndex((a, i) => i >= 2 && (a === 'exec' || a === 'run'))
  if (at < 0) return argv
  for (let i = at + 1; i < argv.length; i++) {
    const token = argv[i]
    if (token === '--') return argv
    if (token.startsWith('-')) {
      if (takesValue.has(token)) i++
      continue
    }
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)]
  }
  return argv
}

/**
 * Short flags of a command that a global flag shadows (`-f` is --file
 * globally, but `rm -f` is --force and `logs -f` is --follow, and `-p` is
 * --project-name but `run -p` is --publish, as in Docker Compose): after that command they are spelled out, clusters such as `-sf`
 * included.
 */
const SHADOWED: Record<string, Record<string, string>> = {
  rm: { f: '--force', s: '--stop', v: '--volumes' },
  logs: { f: '--follow', t: '--timestamps' },
  run: { p: '--publish' },
}

function ownShortFlags(argv: string[], takesValue: Set<string>): string[] {
  const at = argv.findIndex((a, i) => i >= 2 && a in SHADOWED && !takesValue.has(argv[i - 1]))
  if (at < 0) return argv
  const flags = SHADOWED[argv[at]]
  const out = argv.slice(0, at + 1)
  for (const token of argv.slice(at + 1)) {
    const letters = /^-([a-zA-Z]+)$/.exec(token)?.[1]
    if (letters && [...letters].every((l) => l in flags)) out.push(...[...letters].map((l) => flags[l]))
    else out.push(token)
  }
  return out
}

/** Every error ends here: one line for what the user can fix, a stack only for bugs or --verbose. */
function report(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (unknown command or option, with a suggestion).
    return err.exitCode === 0 ? 0 : 1
  }
  // Ctrl-C: the user knows; Compose prints nothing more either.
  if (err instanceof AbortError) return err.exitCode
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
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}

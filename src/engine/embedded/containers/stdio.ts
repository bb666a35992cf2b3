import { spawn, type ChildProcess } from 'node:child_process'
import { underTerminal } from './state.js'

export interface Stdio {
  stdin?: NodeJS.ReadableStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/**
 * Runs a runtime command (`runc run` or `runc exec`) in the foreground with
 * its stdio joined to `io`. With `tty`, the process gets a terminal: the
 * caller's own when its stdin is one (runc relays it, so the child inherits
 * this process's stdio), else one made by script(1), as the monitor does for
 * `tty: true`. `onSpawn` sees the child (signal forwarding); the promise is
 * the exit code, 128+9 for a runtime killed by a signal.
 */
export async function runWithStdio(binary: string, args: string[], tty: boolean, io: Stdio, options: { onSpawn?: (child: ChildProcess, ownTerminal: boolean) => void; keepStdinPiped?: boolean } = {}): Promise<number> {
  const ownTerminal = tty && io.stdin === process.stdin && !!process.stdin.isTTY
  const [command, argv] = tty && !ownTerminal ? underTerminal(binary, args) : [binary, args]
  const child = spawn(command, argv, { stdio: ownTerminal ? 'inherit' : [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
  if (!ownTerminal) {
    if (io.stdin && child.stdin) io.stdin.pipe(child.stdin)
    child.stdout!.pipe(io.stdout, { end: false })
    child.stderr!.pipe(io.stderr, { end: false })
  }
  options.onSpawn?.(child, ownTerminal)
  const code = await new Promise<number>((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 128 + 9 : 1))))
  if (io.stdin && !(options.keepStdinPiped && io.stdin === process.stdin)) io.stdin.unpipe()
  return code
}

/** Runs a runtime command to completion, its output collected. */
export async function runCollected(binary: string, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c))
  child.stderr.on('data', (c: Buffer) => (stderr += c))
  // On exit, not close: a process it left in the background may hold the pipes open.
  const exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
  return { exitCode, stdout, stderr }
}

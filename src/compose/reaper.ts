import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * The reaper: when a test process dies — SIGKILL, out of memory, a CI
 * runner killed — what it brought up must not outlive it. No privileged
 * sidecar container and no daemon: on the first `up()`, this process starts
 * one small detached Node process (reaper-process.ts) and keeps a pipe to
 * it. Each environment is registered on the pipe and released by `down()`.
 * The kernel closes the pipe when this process ends, however it ends; the
 * reaper then removes everything labelled with the projects still
 * registered, and exits.
 */
export interface ReaperTarget {
  project: string
  /** The engine's driver and its root (embedded) or endpoint. */
  engine: string
  root: string
}

let child: ChildProcess | undefined

function reaper(): NodeJS.WritableStream {
  if (child?.stdin?.writable && child.exitCode === null) return child.stdin
  const script = fileURLToPath(new URL('./reaper-process.js', import.meta.url))
  child = spawn(process.execPath, [script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  child.unref()
  // Neither the pipe nor the child keeps this process alive.
  ;(child.stdin as unknown as { unref?: () => void }).unref?.()
  child.stdin!.on('error', () => undefined)
  return child.stdin!
}

export function register(target: ReaperTarget): void {
  reaper().write(`${JSON.stringify({ op: 'register', ...target })}\n`)
}

export function release(project: string): void {
  if (child?.stdin?.writable) child.stdin.write(`${JSON.stringify({ op: 'release', project })}\n`)
}

/** The reaper's pid, for tests. */
export function reaperPid(): number | undefined {
  return child?.pid
}

/**
 * The error kinds pier reports to its users. Each stage throws its own class
 * with a stable `code`; the CLI maps every PierError to a one-line message and
 * an exit code in one place (src/cli/run.ts), and anything else is a bug.
 */
export abstract class PierError extends Error {
  abstract readonly code: string
  /** The process exit code the CLI uses for this error. User errors are 1. */
  readonly exitCode: number = 1

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A command used the wrong way: a bad flag value, a conflicting pair of flags. */
export class UsageError extends PierError {
  readonly code = 'usage'
}

/**
 * The caller asked to stop (Ctrl-C, an AbortSignal): what was running
 * finished, nothing further started. Exits 130, as a shell does for SIGINT.
 */
export class AbortError extends PierError {
  readonly code = 'aborted'
  override readonly exitCode = 130

  constructor(message = 'cancelled') {
    super(message)
  }
}

/** The error an AbortSignal carries, as an AbortError whatever reason it was given. */
export function abortError(signal: AbortSignal): AbortError {
  return signal.reason instanceof AbortError ? signal.reason : new AbortError()
}

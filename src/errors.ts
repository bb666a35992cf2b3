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

import type { Container, Engine } from '../engine/engine.js'

const COLORS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95, 94]

export interface AttachOptions {
  /** Only output written from this moment on (containers kept running by up). */
  since?: string
  color: boolean
  prefix: boolean
  timestamps: boolean
  /** "NAME exited with code N" when each ends (default true). */
  exitMessages?: boolean
  /** The width names are padded to (default: the longest of `containers`). */
  prefixWidth?: number
  /** Which colour of the palette a container takes (default: its place in the list). */
  colorOf?: (container: Container, place: number) => number
  /** Called as each container's output ends, with its exit code. */
  onExit?: (container: Container, code: number) => void
}

/**
 * Follows the output of `containers` on standard output, each line prefixed
 * with the container's name in its own colour and aligned, as `docker compose
 * up` shows it, until every one of them has exited (and is not restarting);
 * prints "NAME exited with code N" for each. Resolves with the exit codes.
 */
export async function attachLogs(engine: Engine, containers: Container[], options: AttachOptions): Promise<Map<string, number>> {
  const width = options.prefixWidth ?? Math.max(...containers.map((c) => c.name.length))
  const codes = new Map<string, number>()
  await Promise.all(
    containers.map(async (c, place) => {
      const i = options.colorOf ? options.colorOf(c, place) : place
      const label = options.prefix ? `${paint(`${c.name.padEnd(width)} |`, i, options.color)} ` : ''
      for await (const line of engine.logs!(c.id, { follow: true, ...(options.since ? { since: options.since } : {}) })) {
        process.stdout.write(`${label}${options.timestamps ? `${line.time} ` : ''}${line.text}\n`)
      }
      const code = (await engine.inspectContainer!(c.id))?.exitCode ?? 0
      codes.set(c.name, code)
      options.onExit?.(c, code)
      if (options.exitMessages !== false) process.stdout.write(`${paint(`${c.name} exited with code ${code}`, i, options.color)}\n`)
    }),
  )
  return codes
}

/** `text` in the `index`-th colour of the palette (containers take colours in turn), when `on`. */
export function paint(text: string, index: number, on: boolean): string {
  return on ? `\x1b[${COLORS[index % COLORS.length]}m${text}\x1b[0m` : text
}

/**
 * Ctrl-C as Compose handles it: the first asks for a graceful stop (the
 * returned signal aborts, and `onFirst` runs), the second forces (`onSecond`,
 * then exit 130).
 */
export function interrupts(handlers: { onFirst: () => void; onSecond: () => Promise<void> | void }): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController()
  let count = 0
  const listener = () => {
    count++
    if (count === 1) {
      controller.abort()
      handlers.onFirst()
    } else {
      void Promise.resolve(handlers.onSecond()).finally(() => process.exit(130))
    }
  }
  process.on('SIGINT', listener)
  process.on('SIGTERM', listener)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', listener)
      process.off('SIGTERM', listener)
    },
  }
}

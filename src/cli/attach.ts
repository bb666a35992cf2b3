import { displayName } from '../compose/attach.js'
import type { LogEntry } from '../compose/logs.js'
import type { Container } from '../engine/engine.js'

const COLORS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95, 94]

export interface PrintOptions {
  color: boolean
  prefix: boolean
  timestamps: boolean
}

/**
 * Prints containers' output on standard output as `docker compose up`
 * shows it: each line prefixed with the name Compose shows (`web-1`: the
 * container name without the project; a `container_name` or a one-off's
 * name as it is) in its own colour, names aligned; "web-1 exited with code
 * N" as each run ends ("(restarting)" when its restart policy starts it
 * again). `layout` fixes the colours and the width from the names followed.
 */
export function printLogs(options: PrintOptions) {
  let width = 0
  const place = new Map<string, number>()
  const layout = (names: string[]) => {
    width = Math.max(width, ...names.map((n) => n.length))
    for (const n of names) if (!place.has(n)) place.set(n, place.size)
  }
  const nameOf = (c: Container) => displayName(c.name, c.labels)
  return {
    layout,
    line({ container: c, line }: LogEntry) {
      const name = nameOf(c)
      if (!place.has(name)) layout([name])
      const label = options.prefix ? `${paint(`${name.padEnd(width)} |`, place.get(name)!, options.color)} ` : ''
      process.stdout.write(`${label}${options.timestamps ? `${line.time} ` : ''}${line.text}\n`)
    },
    exit(c: Container, code: number, restarting = false) {
      const name = nameOf(c)
      process.stdout.write(`${paint(`${name} exited with code ${code}${restarting ? ' (restarting)' : ''}`, place.get(name) ?? 0, options.color)}\n`)
    },
  }
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

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
 * shows it: each line prefixed with the container's name in its own colour,
 * names aligned; "NAME exited with code N" as each ends. `layout` fixes the
 * colours and the width from the containers followed.
 */
export function printLogs(options: PrintOptions) {
  let width = 0
  const place = new Map<string, number>()
  const layout = (containers: Container[]) => {
    width = Math.max(width, ...containers.map((c) => c.name.length))
    for (const c of containers) if (!place.has(c.id)) place.set(c.id, place.size)
  }
  return {
    layout,
    line({ container: c, line }: LogEntry) {
      if (!place.has(c.id)) layout([c])
      const label = options.prefix ? `${paint(`${c.name.padEnd(width)} |`, place.get(c.id)!, options.color)} ` : ''
      process.stdout.write(`${label}${options.timestamps ? `${line.time} ` : ''}${line.text}\n`)
    },
    exit(c: Container, code: number) {
      process.stdout.write(`${paint(`${c.name} exited with code ${code}`, place.get(c.id) ?? 0, options.color)}\n`)
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

/**
 * Compose's two unit syntaxes: Go durations (`1h2m3s`, `1.5s`, `250ms`) and
 * byte sizes (`512m`, `1.5g`, `100kb`; powers of 1024). Parsers return
 * undefined for text they do not accept, so callers can say where it was.
 */

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g

/** A Go duration in milliseconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  const match = DURATION.exec(trimmed)
  if (!match) return undefined
  let ms = 0
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) ms += Number(amount) * DURATION_UNITS[unit]
  return match[1] === '-' ? -ms : ms
}

/** Milliseconds as Go prints a duration: `1m30s`, `1.5s`, `250ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 0) return `-${formatDuration(-ms)}`
  if (ms < 1) return `${trimNumber(ms * 1000)}µs`
  if (ms < 1000) return `${trimNumber(ms)}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const seconds = (ms % 60_000) / 1000
  let out = ''
  if (hours) out += `${hours}h`
  if (hours || minutes) out += `${minutes}m`
  return `${out}${trimNumber(seconds)}s`
}

function trimNumber(n: number): string {
  return String(Number(n.toFixed(9)))
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i
const SIZE_FACTORS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }

/** A byte size (`512m`, `1g`, `100kb`, `2048`) in bytes; a number is already bytes. */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined
  const match = SIZE.exec(value.trim())
  if (!match) return undefined
  return Math.floor(Number(match[1]) * SIZE_FACTORS[match[2].toLowerCase()])
}

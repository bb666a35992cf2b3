import { open, stat } from 'node:fs/promises'
import type { LogLine, LogOptions } from '../../engine.js'
import { monitorAlive, monitorLost, settledState, sleep } from './liveness.js'
import { files } from './state.js'

interface Entry {
  t: string
  s: 'stdout' | 'stderr'
  l: string
}

/**
 * A container's log (log.jsonl, one JSON line per output line, appended by
 * its monitor), read from a byte offset: each poll reads only what was
 * appended since the last, and a line still being written waits for its end.
 * With `follow`, it ends once the monitor is done with the container and
 * nothing is left to read.
 */
export async function* readLogs(dir: string, options: LogOptions = {}): AsyncIterable<LogLine> {
  const path = files(dir).log
  let offset = 0
  let first = true
  for (;;) {
    const fresh = await readFrom(path, offset)
    const end = fresh.lastIndexOf(0x0a) + 1
    offset += end
    let lines = fresh
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Entry)
      .filter((l) => (!options.since || l.t >= options.since) && (!options.until || l.t <= options.until))
    if (first && options.tail !== undefined) lines = options.tail === 0 ? [] : lines.slice(-options.tail)
    first = false
    for (const l of lines) yield { stream: l.s, time: l.t, text: l.l }
    if (!options.follow) return
    if (end === fresh.length) {
      const state = await settledState(dir)
      // A monitor that was killed appends nothing more either.
      if (((state.status === 'exited' && !monitorAlive(state)) || monitorLost(state)) && (await size(path)) === offset) return
    }
    await sleep(100)
  }
}

/** The bytes of `path` from `offset` on (none when it does not exist yet). */
async function readFrom(path: string, offset: number): Promise<Buffer> {
  const handle = await open(path, 'r').catch(() => undefined)
  if (!handle) return Buffer.alloc(0)
  try {
    const length = (await handle.stat()).size - offset
    if (length <= 0) return Buffer.alloc(0)
    const buffer = Buffer.alloc(length)
    const { bytesRead } = await handle.read(buffer, 0, length, offset)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

async function size(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0
}

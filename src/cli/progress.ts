import type { Progress, ProgressEvent } from '../engine/engine.js'

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet'

/**
 * Runs a long operation with its progress on standard error, so standard
 * output stays for data: on a terminal, a listr2 task whose lines follow each
 * layer; otherwise (or with `--progress plain`) one plain line per change of
 * status, byte counts at most once a second per item; `json` one JSON object
 * per event; `quiet` nothing.
 */
export async function withProgress<T>(title: string, mode: ProgressMode, run: (progress: Progress) => Promise<T>): Promise<T> {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'tty' : 'plain') : mode
  switch (resolved) {
    case 'quiet':
      return run(() => {})
    case 'json':
      return run((event) => process.stderr.write(`${JSON.stringify(event)}\n`))
    case 'plain':
      return run(plainProgress())
    case 'tty':
      return ttyProgress(title, run)
  }
}

function plainProgress(): Progress {
  const last = new Map<string, { status: string; at: number }>()
  return (event: ProgressEvent) => {
    const previous = last.get(event.id)
    const now = Date.now()
    if (event.kind === 'bytes' && previous?.status === event.status && now - previous.at < 1000) return
    last.set(event.id, { status: event.status, at: now })
    process.stderr.write(`${event.id}: ${event.status}${event.kind === 'bytes' ? ` ${bytes(event.current)}${event.total ? `/${bytes(event.total)}` : ''}` : ''}\n`)
  }
}

async function ttyProgress<T>(title: string, run: (progress: Progress) => Promise<T>): Promise<T> {
  const { Listr, ProcessOutput } = await import('listr2')
  const lines = new Map<string, string>()
  let result: T | undefined
  const list = new Listr(
    [
      {
        title,
        task: async (_ctx, task) => {
          result = await run((event) => {
            lines.set(event.id, `${event.id}: ${event.status}${event.kind === 'bytes' ? ` ${bar(event.current, event.total)}` : ''}`)
            task.output = [...lines.values()].join('\n')
          })
        },
        rendererOptions: { outputBar: Infinity, persistentOutput: false },
      },
    ],
    {
      // Progress belongs on standard error; standard output carries data.
      rendererOptions: { collapseErrors: true },
      registerSignalListeners: false,
      exitOnError: true,
      processOutput: new ProcessOutput(process.stderr, process.stderr),
    } as ConstructorParameters<typeof Listr>[1],
  )
  await list.run()
  return result as T
}

function bar(current: number, total?: number): string {
  if (!total) return bytes(current)
  const width = 20
  const filled = Math.min(width, Math.round((current / total) * width))
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${bytes(current)}/${bytes(total)}`
}

export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let i = 0
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)}${units[i]}`
}

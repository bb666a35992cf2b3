import type { Duplex } from 'node:stream'
import type { ExecSpec, LogLine, LogOptions } from '../engine.js'
import type { DockerClient } from './client.js'
import { demux, lines, pipeFrames, raw } from './streams.js'

/**
 * The calls that carry a container's standard streams: logs, exec and the
 * attached start. Without a TTY Docker multiplexes stdout and stderr into
 * one stream (streams.ts); with one, the bytes come raw.
 */

type Io = { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }

const path = (id: string) => `/containers/${encodeURIComponent(id)}`

/** `since`/`until` as Docker takes them: Unix seconds; pier passes RFC 3339 times (or seconds already). */
export function unixSeconds(time: string): string {
  if (/^\d+(\.\d+)?$/.test(time)) return time
  const ms = Date.parse(time)
  return Number.isNaN(ms) ? time : (ms / 1000).toFixed(3)
}

export async function* containerLogs(client: DockerClient, id: string, tty: boolean, options: LogOptions = {}): AsyncIterable<LogLine> {
  const res = await client.request('GET', `${path(id)}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: options.follow ?? false,
      tail: options.tail === undefined ? 'all' : options.tail,
      since: options.since ? unixSeconds(options.since) : undefined,
      until: options.until ? unixSeconds(options.until) : undefined,
    },
    stream: true,
    what: `container ${id}`,
  })
  try {
    // Every line starts with its RFC 3339 time and a space (timestamps=1).
    for await (const l of lines(tty ? raw(res) : demux(res))) {
      const cut = l.text.indexOf(' ')
      const text = l.text.slice(cut + 1)
      yield { stream: l.stream, time: l.text.slice(0, cut), text: tty ? text.replace(/\r$/, '') : text }
    }
  } finally {
    res.destroy()
  }
}

/** Feeds `stdin` into a hijacked connection and half-closes it at the end, so the process sees EOF. */
function feed(stdin: NodeJS.ReadableStream | undefined, socket: Duplex): () => void {
  if (!stdin) {
    socket.end()
    return () => {}
  }
  stdin.pipe(socket, { end: true })
  return () => stdin.unpipe(socket)
}

export async function execIn(client: DockerClient, id: string, spec: ExecSpec): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
  const tty = spec.tty ?? false
  const stdin = spec.stdio?.stdin
  const { Id } = await client.json<{ Id: string }>('POST', `${path(id)}/exec`, {
    body: {
      AttachStdin: !!stdin && !spec.detach,
      AttachStdout: !spec.detach,
      AttachStderr: !spec.detach,
      Tty: tty,
      Cmd: spec.argv,
      Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      Privileged: spec.privileged ?? false,
    },
    what: `container ${id}`,
  })
  const start = `/exec/${Id}/start`
  if (spec.detach) {
    await client.call('POST', start, { body: { Detach: true, Tty: tty } })
    return { exitCode: 0 }
  }
  let collected: { stdout: Buffer[]; stderr: Buffer[] } | undefined
  if (spec.stdio && (stdin || tty)) {
    // Standard input, or a terminal: a hijacked connection both ways.
    const socket = await client.hijack('POST', start, { body: { Detach: false, Tty: tty } })
    const size = (spec.stdio.stdout as { columns?: number; rows?: number })
    if (tty && size.columns && size.rows) await client.call('POST', `/exec/${Id}/resize`, { query: { h: size.rows, w: size.columns } }).catch(() => {})
    const stop = feed(stdin, socket)
    try {
      await pipeFrames(tty ? raw(socket) : demux(socket), spec.stdio)
    } finally {
      stop()
      socket.destroy()
    }
  } else {
    const res = await client.request('POST', start, { body: { Detach: false, Tty: tty }, stream: true })
    const frames = tty ? raw(res) : demux(res)
    if (spec.stdio) await pipeFrames(frames, spec.stdio)
    else {
      collected = { stdout: [], stderr: [] }
      for await (const f of frames) collected[f.stream].push(f.data)
    }
  }
  const { ExitCode } = await client.json<{ ExitCode: number | null }>('GET', `/exec/${Id}/json`)
  return collected
    ? { exitCode: ExitCode ?? 0, stdout: Buffer.concat(collected.stdout).toString('utf8'), stderr: Buffer.concat(collected.stderr).toString('utf8') }
    : { exitCode: ExitCode ?? 0 }
}

/**
 * `run` in the foreground: attach first (so no output is lost), register
 * the wait for the next exit, then start; the exit code is the wait's.
 */
export async function startAttached(client: DockerClient, id: string, tty: boolean, io: Io): Promise<number> {
  const socket = await client.hijack('POST', `${path(id)}/attach`, { query: { stream: true, stdin: true, stdout: true, stderr: true }, what: `container ${id}` })
  const waiting = await client.request('POST', `${path(id)}/wait`, { query: { condition: 'next-exit' }, stream: true, what: `container ${id}` })
  const exited = (async () => {
    const chunks: Buffer[] = []
    for await (const c of waiting) chunks.push(c as Buffer)
    return (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode: number }).StatusCode
  })()
  exited.catch(() => {})
  const output = pipeFrames(tty ? raw(socket) : demux(socket), io)
  output.catch(() => {})
  await client.call('POST', `${path(id)}/start`, { what: `container ${id}` })
  let stop = () => {}
  if (io.stdin) {
    io.stdin.pipe(socket)
    stop = () => io.stdin!.unpipe(socket)
  }
  try {
    const code = await exited
    // The rest of the output arrives before the connection closes; a few moments at most.
    await Promise.race([output, new Promise((r) => setTimeout(r, 2000))])
    return code
  } finally {
    stop()
    socket.destroy()
  }
}

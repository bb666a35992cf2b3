/**
 * Docker's multiplexed stream (logs, attach and exec without a TTY): frames
 * of an 8-byte header — the stream (1 stdout, 2 stderr), three zero bytes,
 * the payload's length big-endian — then the payload. With a TTY the stream
 * is the terminal's raw bytes, all stdout.
 */

export type StreamName = 'stdout' | 'stderr'

export async function* demux(stream: NodeJS.ReadableStream): AsyncIterable<{ stream: StreamName; data: Buffer }> {
  let buf = Buffer.alloc(0)
  for await (const chunk of stream) {
    buf = Buffer.concat([buf, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)])
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4)
      if (buf.length < 8 + size) break
      const kind = buf[0]
      const data = buf.subarray(8, 8 + size)
      buf = buf.subarray(8 + size)
      yield { stream: kind === 2 ? 'stderr' : 'stdout', data }
    }
  }
}

export async function* raw(stream: NodeJS.ReadableStream): AsyncIterable<{ stream: StreamName; data: Buffer }> {
  for await (const chunk of stream) yield { stream: 'stdout', data: Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string) }
}

/** Frames of either kind cut into lines; a last line without a newline is kept. */
export async function* lines(frames: AsyncIterable<{ stream: StreamName; data: Buffer }>): AsyncIterable<{ stream: StreamName; text: string }> {
  const rest: Record<StreamName, string> = { stdout: '', stderr: '' }
  for await (const f of frames) {
    rest[f.stream] += f.data.toString('utf8')
    let cut: number
    while ((cut = rest[f.stream].indexOf('\n')) >= 0) {
      yield { stream: f.stream, text: rest[f.stream].slice(0, cut) }
      rest[f.stream] = rest[f.stream].slice(cut + 1)
    }
  }
  for (const s of ['stdout', 'stderr'] as const) if (rest[s]) yield { stream: s, text: rest[s] }
}

/** Writes frames to the two streams, resolving when the source ends. */
export async function pipeFrames(frames: AsyncIterable<{ stream: StreamName; data: Buffer }>, out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<void> {
  for await (const f of frames) {
    const target = out[f.stream]
    if (!target.write(f.data)) await new Promise((r) => target.once('drain', r))
  }
}

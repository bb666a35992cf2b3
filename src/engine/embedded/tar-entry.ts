import type { Readable } from 'node:stream'
import type tar from 'tar-stream'

/**
 * Writes one entry into a tar-stream pack and resolves once it is written:
 * no content (a directory, a link), a buffer, or a stream (a file, piped in).
 */
export function addTarEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, content?: Buffer | Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve())
    if (!content) {
      pack.entry(header as tar.Header, done)
    } else if (Buffer.isBuffer(content)) {
      pack.entry(header as tar.Header, content, done)
    } else {
      const entry = pack.entry(header as tar.Header, done)
      content.on('error', reject)
      content.pipe(entry)
    }
  })
}

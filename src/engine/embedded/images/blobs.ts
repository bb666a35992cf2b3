import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { once } from 'node:events'
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { EngineError } from '../../errors.js'
import type { Root } from '../root.js'

/**
 * Content-addressed blobs (manifests, configs, layer archives) under
 * images/blobs/sha256/<hex>. A blob is only ever written whole and checked:
 * the content streams to a temporary file while being hashed, and is renamed
 * into place only when its digest is the one expected.
 */
export class BlobStore {
  constructor(private readonly root: Root) {}

  path(digest: string): string {
    return this.root.path('images', 'blobs', 'sha256', hex(digest))
  }

  async has(digest: string): Promise<boolean> {
    // One stat, synchronous: an asynchronous one is a thread-pool round trip, and rebuilds ask this often.
    return existsSync(this.path(digest))
  }

  async size(digest: string): Promise<number> {
    return (await stat(this.path(digest))).size
  }

  read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest))
  }

  stream(digest: string): Readable {
    return createReadStream(this.path(digest))
  }

  /** Stores `data` and returns its digest. */
  async putBuffer(data: Buffer | string): Promise<string> {
    const buffer = typeof data === 'string' ? Buffer.from(data) : data
    const digest = sha256(buffer)
    if (await this.has(digest)) return digest
    const temp = this.root.temp('blob')
    await writeFile(temp, buffer)
    await rename(temp, this.path(digest))
    return digest
  }

  /**
   * Streams content into the store. With `expected`, a different digest is an
   * integrity error and nothing is kept; `onBytes` reports progress.
   */
  async put(input: Readable, expected?: string, onBytes?: (n: number) => void): Promise<{ digest: string; size: number }> {
    const temp = this.root.temp('blob')
    const out = createWriteStream(temp)
    const hash = createHash('sha256')
    let size = 0
    try {
      input.on('data', (chunk: Buffer) => {
        hash.update(chunk)
        size += chunk.length
        onBytes?.(size)
      })
      await pipeline(input, out)
      const digest = `sha256:${hash.digest('hex')}`
      if (expected !== undefined && digest !== expected) {
        throw new EngineError('integrity', `content does not match its digest: expected ${expected}, got ${digest}`)
      }
      await rename(temp, this.path(digest))
      return { digest, size }
    } finally {
      // A stream that failed before its file was open still opens (and closes) it afterwards:
      // removed only then, or a failed input (a truncated archive) leaves the file in tmp/.
      if (!out.closed) await once(out, 'close').catch(() => undefined)
      await rm(temp, { force: true })
    }
  }

  async remove(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true })
  }
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

export function hex(digest: string): string {
  const [algorithm, value] = digest.split(':')
  if (algorithm !== 'sha256' || !/^[a-f0-9]{64}$/.test(value ?? '')) {
    throw new EngineError('invalid', `unsupported digest "${digest}": pier stores sha256 digests`)
  }
  return value
}

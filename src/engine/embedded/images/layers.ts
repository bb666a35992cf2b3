import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { PassThrough, type Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { EngineError } from '../../errors.js'
import type { Root } from '../root.js'
import { hex } from './blobs.js'
import { extractLayer, type ExtractResult } from './extract.js'

/**
 * Unpacked layers, one directory per layer under images/layers/<diff-id>,
 * shared by every image that has the layer and stacked as overlayfs lower
 * directories under a container's own upper directory. A layer is unpacked
 * into tmp/ and renamed into place only when its content matched its diff ID,
 * so a directory here is always complete.
 */
export class LayerStore {
  constructor(private readonly root: Root) {}

  dir(diffId: string): string {
    return this.root.path('images', 'layers', hex(diffId))
  }

  async has(diffId: string): Promise<boolean> {
    // One stat, synchronous: an asynchronous one is a thread-pool round trip, and rebuilds ask this often.
    return existsSync(this.dir(diffId))
  }

  /** Unpacks the layer archive at `blobPath` (plain or gzip tar), checking it against `diffId`. */
  async unpack(diffId: string, blobPath: string): Promise<ExtractResult | undefined> {
    if (await this.has(diffId)) return undefined
    const temp = this.root.temp('layer')
    await mkdir(temp, { mode: 0o755 })
    try {
      const hash = createHash('sha256')
      const tarStream = await decompressed(blobPath)
      const counted = new PassThrough()
      tarStream.on('data', (chunk: Buffer) => hash.update(chunk))
      tarStream.pipe(counted)
      tarStream.on('error', (err) => counted.destroy(err))
      const result = await extractLayer(counted, temp)
      const actual = `sha256:${hash.digest('hex')}`
      if (actual !== diffId) throw new EngineError('integrity', `layer content does not match its diff ID: expected ${diffId}, got ${actual}`)
      try {
        await rename(temp, this.dir(diffId))
      } catch (err: any) {
        // Another pier process unpacked the same layer first: theirs is as good as ours.
        if (err?.code !== 'ENOTEMPTY' && err?.code !== 'EEXIST') throw err
      }
      return result
    } finally {
      await rm(temp, { recursive: true, force: true })
    }
  }

  async remove(diffId: string): Promise<void> {
    // Move it out of sight first, so a half-removed layer never looks complete.
    const doomed = this.root.temp('removed-layer')
    await rename(this.dir(diffId), doomed).catch(() => undefined)
    await rm(doomed, { recursive: true, force: true })
  }
}

/** The layer's tar stream, decompressed according to its first bytes. */
async function decompressed(path: string): Promise<Readable> {
  const handle = await open(path, 'r')
  const magic = Buffer.alloc(4)
  await handle.read(magic, 0, 4, 0)
  await handle.close()
  const raw = createReadStream(path)
  if (magic[0] === 0x1f && magic[1] === 0x8b) return raw.pipe(createGunzip())
  if (magic.readUInt32LE(0) === 0xfd2fb528) {
    throw new EngineError('unsupported', 'this layer is zstd-compressed, which pier cannot unpack on Node 20: use a gzip or uncompressed image')
  }
  return raw
}

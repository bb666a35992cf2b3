import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import type { Platform } from '../../engine.js'
import type { Root } from '../root.js'

/** One image: its manifest and config blobs and its layers, bottom first. */
export interface ImageRecord {
  /** The config digest, which is the image ID. */
  id: string
  manifest: string
  layers: { digest: string; diffId: string; size: number; mediaType: string }[]
  platform: Platform
  created?: string
  /** `registry/repository@sha256:…` for each manifest digest it is known by. */
  digests: string[]
  /** Uncompressed bytes of its layers' files. */
  size: number
}

export interface CatalogData {
  images: Record<string, ImageRecord>
  /** Normalized `registry/repository:tag` → image ID. */
  tags: Record<string, string>
  /** Bytes of file content of each unpacked layer, by diff ID. */
  layerSizes?: Record<string, number>
}

/**
 * The names and records of the stored images: one JSON file
 * (images/catalog.json), read whole, changed under the root's lock and
 * replaced atomically. An image is added only after all of its blobs and
 * layers are in place, so the catalog never names an incomplete image.
 */
export class Catalog {
  constructor(private readonly root: Root) {}

  private get file(): string {
    return this.root.path('images', 'catalog.json')
  }

  async read(): Promise<CatalogData> {
    try {
      // Synchronous: one small file, read by most commands, often several times; each asynchronous read is
      // four round trips through libuv's thread pool (open, stat, read, close), slow on a busy machine.
      return JSON.parse(readFileSync(this.file, 'utf8')) as CatalogData
    } catch (err: any) {
      if (err?.code === 'ENOENT') return { images: {}, tags: {} }
      throw err
    }
  }

  /** Read, change and write back, with no other pier process changing it meanwhile. */
  async update<T>(change: (data: CatalogData) => T | Promise<T>): Promise<T> {
    return this.root.withLock('images', async () => {
      const data = await this.read()
      const result = await change(data)
      const temp = this.root.temp('catalog')
      await writeFile(temp, JSON.stringify(data, null, 1))
      await rename(temp, this.file)
      return result
    })
  }
}

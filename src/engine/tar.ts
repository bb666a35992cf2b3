import type { Readable } from 'node:stream'
import tar from 'tar-stream'
import { copyFrom } from './embedded/containers/copy.js'
import { extractLayer } from './embedded/images/extract.js'

/**
 * Tar streams of host paths and back, for `pier cp`: the same code the
 * embedded engine uses for a container's files, with the host's root as the
 * root, so the same rules hold (links copied as links, nothing written
 * outside the destination).
 */
export function packHostPath(path: string, name?: string): Promise<Readable> {
  return copyFrom('/', path, name)
}

export async function unpackInto(dir: string, archive: Readable): Promise<void> {
  await extractLayer(archive, dir, { whiteouts: false })
}

/** The type of the first entry of a tar stream (the path `copyFrom` packed), then the stream is dropped. */
export async function firstEntryType(archive: Readable): Promise<string | undefined> {
  const extract = tar.extract()
  return new Promise((resolve) => {
    extract.once('entry', (header) => {
      resolve(header.type ?? undefined)
      archive.destroy()
      extract.destroy()
    })
    extract.once('finish', () => resolve(undefined))
    extract.once('error', () => resolve(undefined))
    archive.on('error', () => resolve(undefined))
    archive.pipe(extract)
  })
}

import { createReadStream, createWriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import type { Image, ImageChanges } from '../../engine.js'
import { EngineError } from '../../errors.js'
import { formatReference, parseReference } from '../../reference.js'
import type { ImageRecord } from './catalog.js'
import { hostPlatform, MEDIA, type ConfigJson } from './oci.js'
import type { ImageStore } from './store.js'

/** One entry of an image config's `history`. */
export interface HistoryJson {
  created?: string
  created_by?: string
  author?: string
  comment?: string
  empty_layer?: boolean
}

export type FullConfigJson = ConfigJson & { history?: HistoryJson[]; author?: string; comment?: string }

export interface LayerOnTop {
  /** The image it goes on (`commit`), or none (`import`: the layer is the whole filesystem). */
  base?: ImageRecord
  /** The new layer, an uncompressed tar already in the blob store (its digest is its diff ID); none when nothing changed. */
  layer?: { digest: string; size: number }
  /** What the history says made it: the container's command (commit), empty (import). */
  createdBy: string
  tag?: string
  /** The run configuration before the changes (commit: the container's); default the base image's. */
  runConfig?: NonNullable<ConfigJson['config']>
}

/**
 * Stores an image of `base`'s layers plus one new layer, with the changes
 * (`-c`) applied to its config and one history entry for the step, then
 * names it: what `commit` and `import` have in common.
 */
export async function addLayerImage(store: ImageStore, top: LayerOnTop, options: ImageChanges): Promise<Image> {
  const base: FullConfigJson = top.base ? ((await store.config(top.base)) as FullConfigJson) : {}
  const platform = top.base?.platform ?? hostPlatform()
  const created = new Date().toISOString()
  // Loaded here: it brings the Dockerfile parser, which no other command of the engine needs.
  const { applyChanges } = await import('./changes.js')
  const config = applyChanges(top.runConfig ?? base.config ?? {}, options.changes ?? [])
  const layers = [...(top.base?.layers ?? [])]
  if (top.layer) layers.push({ digest: top.layer.digest, diffId: top.layer.digest, size: top.layer.size, mediaType: MEDIA.ociLayer })
  // A base with no history (some archives) gets an entry per layer, so the history still pairs with the layers.
  const baseHistory: HistoryJson[] = base.history?.length ? base.history : (top.base?.layers ?? []).map(() => ({ ...(base.created ? { created: base.created } : {}), created_by: '' }))
  const history: HistoryJson[] = [
    ...baseHistory,
    { created, created_by: top.createdBy, ...(options.author ? { author: options.author } : {}), ...(options.message ? { comment: options.message } : {}), ...(top.layer ? {} : { empty_layer: true }) },
  ]
  const json: FullConfigJson = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created,
    ...(options.author ? { author: options.author } : {}),
    ...(options.message ? { comment: options.message } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  }
  // Unpacked before the config and manifest are written: a tar the extraction refuses leaves only its own blob to clear.
  const unpacked = top.layer ? await store.layers.unpack(top.layer.digest, store.blobs.path(top.layer.digest)) : undefined
  const configText = JSON.stringify(json)
  const configDigest = await store.blobs.putBuffer(configText)
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: Buffer.byteLength(configText) },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }
  const manifestDigest = await store.blobs.putBuffer(JSON.stringify(manifest))
  const tags = top.tag ? [formatReference(parseReference(top.tag))] : []
  return store.add({ manifest: manifestDigest, config: configDigest, layers, platform, created, tags, digests: [], ...(unpacked && top.layer ? { layerSizes: { [top.layer.digest]: unpacked.bytes } } : {}) })
}

/**
 * Puts a root filesystem tar (plain or gzip, as `docker import` takes) into
 * the blob store uncompressed, so its digest is its diff ID; anything else
 * is refused in one line and nothing is kept.
 */
export async function putRootfsTar(store: ImageStore, input: Readable): Promise<{ digest: string; size: number }> {
  // To a temporary file first: the first bytes decide how it is read, and a refused one leaves nothing in the store.
  const temp = store.root.temp('import')
  try {
    await pipeline(input, createWriteStream(temp))
    const handle = await open(temp, 'r')
    const magic = Buffer.alloc(262)
    const { bytesRead } = await handle.read(magic, 0, magic.length, 0)
    await handle.close()
    const gzip = magic[0] === 0x1f && magic[1] === 0x8b
    // A tar header has "ustar" at byte 257 (POSIX and GNU); an empty archive is all zeros.
    const tarLike = bytesRead >= 262 && (magic.subarray(257, 262).toString('latin1') === 'ustar' || magic.every((b) => b === 0))
    if (!gzip && !tarLike) throw new EngineError('invalid', 'that is not a tar archive (plain or gzip) of a root filesystem: make one with "tar -C DIR -c ." or "pier export"')
    try {
      return await store.blobs.put(gzip ? createReadStream(temp).pipe(createGunzip()) : createReadStream(temp))
    } catch (err) {
      if (err instanceof EngineError) throw err
      throw new EngineError('invalid', `the gzip archive could not be read: ${(err as Error).message}`)
    }
  } finally {
    await rm(temp, { force: true })
  }
}

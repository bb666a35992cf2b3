import { readdir, stat } from 'node:fs/promises'
import type { Image, Platform, Progress } from '../../engine.js'
import { EngineError } from '../../errors.js'
import { familiarName, formatReference, parseReference, repositoryName } from '../../reference.js'
import type { Root } from '../root.js'
import { BuildCache } from '../build/cache.js'
import { BlobStore } from './blobs.js'
import { Catalog, type CatalogData, type ImageRecord } from './catalog.js'
import { LayerStore } from './layers.js'
import { imageConfig, type ConfigJson } from './oci.js'

/** What a source (an archive, a registry) hands the store once all blobs are in. */
export interface NewImage {
  manifest: string
  config: string
  layers: { digest: string; diffId: string; size: number; mediaType: string }[]
  platform: Platform
  created?: string
  /** Normalized references to point at the image. */
  tags: string[]
  /** `repository@digest` names of the manifest. */
  digests: string[]
  /** Unpacked sizes of layers the source unpacked itself (a build). */
  layerSizes?: Record<string, number>
}

const ID = /^(?:sha256:)?([a-f0-9]{12,64})$/

/**
 * The image half of the embedded engine: blobs, unpacked layers and the
 * catalog of names, kept consistent. Sources put blobs first, then `add`
 * unpacks the layers and only then names the image.
 */
export class ImageStore {
  readonly blobs: BlobStore
  readonly layers: LayerStore
  readonly catalog: Catalog

  constructor(readonly root: Root) {
    this.blobs = new BlobStore(root)
    this.layers = new LayerStore(root)
    this.catalog = new Catalog(root)
  }

  /** The record a reference or ID names, if any. */
  async resolve(ref: string): Promise<ImageRecord | undefined> {
    const data = await this.catalog.read()
    const id = ID.exec(ref)?.[1]
    if (id) {
      const matches = Object.keys(data.images).filter((key) => key.slice(7).startsWith(id))
      if (matches.length === 1) return data.images[matches[0]]
      if (matches.length > 1) throw new EngineError('invalid', `the image ID prefix "${ref}" is ambiguous: give more digits`)
      if (ref.startsWith('sha256:')) return undefined
    }
    const parsed = parseReference(ref)
    if (parsed.digest) {
      const name = `${repositoryName(parsed)}@${parsed.digest}`
      return Object.values(data.images).find((img) => img.digests.includes(name) || img.manifest === parsed.digest)
    }
    const target = data.tags[formatReference(parsed)]
    return target ? data.images[target] : undefined
  }

  async require(ref: string): Promise<ImageRecord> {
    const record = await this.resolve(ref)
    if (!record) throw new EngineError('not-found', `no such image: ${ref} (pull it with "pier pull ${ref}" or load it with "pier image load")`)
    return record
  }

  async inspect(ref: string): Promise<Image | undefined> {
    const record = await this.resolve(ref)
    return record ? this.toImage(record, (await this.catalog.read()).tags) : undefined
  }

  async list(): Promise<Image[]> {
    const data = await this.catalog.read()
    return Promise.all(Object.values(data.images).map((record) => this.toImage(record, data.tags)))
  }

  /** Unpacks the image's layers (each once, shared), then names it. */
  async add(image: NewImage, progress?: Progress): Promise<Image> {
    const unpacked: Record<string, number> = { ...image.layerSizes }
    for (const layer of image.layers) {
      progress?.({ kind: 'status', id: short(layer.digest), status: 'Extracting' })
      const result = await this.layers.unpack(layer.diffId, this.blobs.path(layer.digest))
      if (result) unpacked[layer.diffId] = result.bytes
      progress?.({ kind: 'status', id: short(layer.digest), status: 'Pull complete' })
    }
    const recordIn = (data: CatalogData): ImageRecord => {
      const sizes = { ...data.layerSizes, ...unpacked }
      return {
        id: image.config,
        manifest: image.manifest,
        layers: image.layers,
        platform: image.platform,
        ...(image.created ? { created: image.created } : {}),
        digests: [...new Set([...(data.images[image.config]?.digests ?? []), ...image.digests])],
        size: image.layers.reduce((sum, l) => sum + (sizes[l.diffId] ?? 0), 0),
      }
    }
    // The very image under these very names already (an unchanged rebuild): nothing to write, no lock to take.
    const current = await this.catalog.read()
    const same = current.images[image.config]
    if (same && JSON.stringify(same) === JSON.stringify(recordIn(current)) && image.tags.every((t) => current.tags[t] === image.config) && Object.entries(unpacked).every(([k, v]) => current.layerSizes?.[k] === v)) {
      return this.toImage(same, current.tags)
    }
    const record = await this.catalog.update((data) => {
      const record = recordIn(data)
      Object.assign((data.layerSizes ??= {}), unpacked)
      data.images[image.config] = record
      for (const tag of image.tags) data.tags[tag] = image.config
      return record
    })
    return this.toImage(record, (await this.catalog.read()).tags)
  }

  async tag(source: string, target: string): Promise<void> {
    const record = await this.require(source)
    const name = formatReference(parseReference(target))
    if (parseReference(target).digest) throw new EngineError('invalid', `cannot tag with a digest: ${target}`)
    await this.catalog.update((data) => {
      data.tags[name] = record.id
    })
  }

  /**
   * Removes a name; the image goes with its last name, or at once with
   * `force` (all its names). Layers and blobs no image uses any more go too.
   */
  async remove(ref: string, force = false): Promise<{ untagged: string[]; deleted: string[] }> {
    const record = await this.require(ref)
    return this.catalog.update(async (data) => {
      const names = Object.keys(data.tags).filter((t) => data.tags[t] === record.id)
      const byId = ID.test(ref) && !names.includes(formatReference(parseReference(ref)))
      let untagged: string[]
      if (byId || force) {
        if (names.length > 1 && !force) {
          throw new EngineError('conflict', `image ${short(record.id)} has several names (${names.map(familiarName).join(', ')}): remove them one by one, or use --force`)
        }
        untagged = names
      } else {
        untagged = [formatReference(parseReference(ref))].filter((n) => data.tags[n] === record.id)
      }
      for (const name of untagged) delete data.tags[name]
      const deleted: string[] = []
      if (!Object.values(data.tags).includes(record.id)) {
        delete data.images[record.id]
        deleted.push(record.id)
        await this.collect(data.images, new Set([record.id, record.manifest, ...record.layers.flatMap((l) => [l.digest, l.diffId])]), (data.layerSizes ??= {}))
      }
      return { untagged: untagged.map(familiarName), deleted }
    })
  }

  /**
   * Removes images as `docker image prune` does: those with no name (with
   * `all`, every one) that no container in `inUse` was made from, then the
   * blobs and layers nothing refers to any more. Build-cache entries whose
   * layer is gone (removed by hand, or by an older pier) go too.
   */
  async prune(inUse: Set<string>, all = false): Promise<{ untagged: string[]; deleted: string[]; reclaimed: number }> {
    return this.catalog.update(async (data) => {
      const named = new Set(Object.values(data.tags))
      const doomed = Object.values(data.images).filter((img) => !inUse.has(img.id) && (all || !named.has(img.id)))
      const untagged: string[] = []
      for (const [tag, id] of Object.entries(data.tags)) {
        if (!doomed.some((img) => img.id === id)) continue
        delete data.tags[tag]
        untagged.push(familiarName(tag))
      }
      for (const img of doomed) delete data.images[img.id]
      const mine = new Set(doomed.flatMap((img) => [img.id, img.manifest, ...img.layers.flatMap((l) => [l.digest, l.diffId])]))
      const reclaimed = await this.collect(data.images, mine, (data.layerSizes ??= {}))
      await new BuildCache(this.root, this).dropBroken()
      return { untagged, deleted: doomed.map((img) => img.id), reclaimed }
    })
  }

  /** Removes every build-cache entry and cache mount, then the layers only the cache held. */
  async pruneBuildCache(): Promise<{ entries: number; reclaimed: number }> {
    return this.catalog.update(async (data) => {
      const { entries, layers, mountBytes } = await new BuildCache(this.root, this).clear()
      const reclaimed = await this.collect(data.images, layers, (data.layerSizes ??= {}))
      return { entries, reclaimed: reclaimed + mountBytes }
    })
  }

  /**
   * Deletes blobs and layers that neither an image in `images` nor a
   * build-cache entry refers to (the cache is a root: a rebuild reuses its
   * layers however many images were removed): those in `mine` (of what was
   * just removed) at once, other strays (left by an interrupted pull) once
   * they are ten minutes old — younger ones may belong to a pull or build
   * running right now in another process. Runs under the catalog lock;
   * returns the bytes freed.
   */
  private async collect(images: Record<string, ImageRecord>, mine: Set<string>, sizes: Record<string, number>): Promise<number> {
    const blobs = new Set<string>()
    const layers = new Set<string>()
    for (const img of Object.values(images)) {
      blobs.add(img.manifest)
      blobs.add(img.id)
      for (const l of img.layers) {
        blobs.add(l.digest)
        layers.add(l.diffId)
      }
    }
    for (const layer of await new BuildCache(this.root, this).layers()) {
      blobs.add(layer.digest)
      layers.add(layer.diffId)
    }
    const cutoff = Date.now() - 10 * 60_000
    const doomed = async (dir: string, keep: Set<string>) => {
      const out: string[] = []
      for (const hexName of await readdir(dir).catch(() => [] as string[])) {
        const digest = `sha256:${hexName}`
        if (keep.has(digest)) continue
        if (mine.has(digest) || (await stat(`${dir}/${hexName}`)).mtimeMs < cutoff) out.push(digest)
      }
      return out
    }
    let freed = 0
    for (const digest of await doomed(this.root.path('images', 'blobs', 'sha256'), blobs)) {
      freed += await this.blobs.size(digest).catch(() => 0)
      await this.blobs.remove(digest)
    }
    for (const digest of await doomed(this.root.path('images', 'layers'), layers)) {
      freed += sizes[digest] ?? 0
      await this.layers.remove(digest)
    }
    for (const diffId of Object.keys(sizes)) if (!layers.has(diffId)) delete sizes[diffId]
    return freed
  }

  async config(record: ImageRecord): Promise<ConfigJson> {
    return JSON.parse((await this.blobs.read(record.id)).toString('utf8')) as ConfigJson
  }

  private async toImage(record: ImageRecord, tags: Record<string, string>): Promise<Image> {
    const config = await this.config(record)
    return {
      id: record.id,
      tags: Object.keys(tags).filter((t) => tags[t] === record.id).sort(),
      digests: record.digests,
      platform: record.platform,
      ...(record.created ? { created: record.created } : {}),
      size: record.size,
      layers: record.layers.map((l) => l.diffId),
      config: imageConfig(config),
    }
  }
}

export function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12)
}

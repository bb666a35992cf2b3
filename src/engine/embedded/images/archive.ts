import { createReadStream, createWriteStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { posix } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import type { Image, Progress } from '../../engine.js'
import { EngineError } from '../../errors.js'
import { familiarName, formatReference, parseReference } from '../../reference.js'
import { hex } from './blobs.js'
import * as shape from './documents.js'
import { MAX_DOCUMENT, type DockerManifestEntry } from './documents.js'
import { hostPlatform, INDEX_TYPES, MEDIA, selectPlatform, type Descriptor, type Index, type Manifest } from './oci.js'
import type { ImageStore, NewImage } from './store.js'
import { addTarEntry } from '../tar-entry.js'

/** Small metadata files kept in memory while reading an archive. */
const METADATA = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories'])

interface Stored {
  digest: string
  size: number
}

/**
 * Loads a `docker save` archive or an OCI image archive (an OCI layout in a
 * tar, which newer `docker save` also writes). Every file of the archive goes
 * into the blob store as it streams by, hashed on the way; the images are
 * then assembled from the archive's manifests, their layers checked against
 * the diff IDs of their configs. A truncated or foreign archive names nothing.
 */
export async function loadArchive(store: ImageStore, input: Readable, progress?: Progress): Promise<Image[]> {
  const files = new Map<string, Stored>()
  const links = new Map<string, string>()
  const metadata = new Map<string, Buffer>()
  const extract = tar.extract()
  const feeding = pipeline(input, extract).catch((err) => extract.destroy(err))
  try {
    for await (const entry of extract) {
      const name = posix.normalize(entry.header.name).replace(/^(\.\/|\/)+/, '')
      if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        const target = entry.header.type === 'symlink' ? posix.join(posix.dirname(name), entry.header.linkname ?? '') : posix.normalize(entry.header.linkname ?? '')
        links.set(name, target)
        entry.resume()
        continue
      }
      if (entry.header.type !== 'file') {
        entry.resume()
        continue
      }
      if (METADATA.has(name)) {
        // Refused before a byte is buffered: the header says how big it is.
        const size = entry.header.size ?? 0
        if (size > MAX_DOCUMENT) archiveFail(`${name} is ${size} bytes, more than the ${MAX_DOCUMENT} pier reads for one JSON document`)
        const chunks: Buffer[] = []
        for await (const chunk of entry) chunks.push(chunk as Buffer)
        metadata.set(name, Buffer.concat(chunks))
        continue
      }
      progress?.({ kind: 'status', id: name, status: 'Loading' })
      files.set(name, await store.blobs.put(entry as unknown as Readable))
    }
    await feeding
  } catch (err) {
    throw archiveError(err)
  }
  for (const [name, target] of links) {
    const stored = files.get(target)
    if (stored) files.set(name, stored)
  }

  const images: NewImage[] = metadata.has('manifest.json')
    ? await dockerImages(store, shape.dockerManifest(json(metadata.get('manifest.json')!, 'manifest.json'), archiveFail), files)
    : metadata.has('index.json')
      ? await ociImages(store, shape.index(json(metadata.get('index.json')!, 'index.json'), 'index.json', archiveFail), files)
      : archiveFail('it has neither manifest.json (docker save) nor index.json (OCI layout)')
  const loaded: Image[] = []
  for (const image of images) loaded.push(await store.add(image, progress))
  return loaded
}

async function dockerImages(store: ImageStore, entries: DockerManifestEntry[], files: Map<string, Stored>): Promise<NewImage[]> {
  const out: NewImage[] = []
  for (const entry of entries) {
    const config = files.get(entry.Config) ?? archiveFail(`its manifest names ${entry.Config}, which is not in the archive`)
    const configJson = await readDocument(store, config, entry.Config, shape.config)
    const diffIds = configJson.rootfs?.diff_ids ?? []
    if (diffIds.length !== entry.Layers.length) archiveFail(`${entry.Config} lists ${diffIds.length} layers, the manifest ${entry.Layers.length}`)
    const layers = entry.Layers.map((name, i) => {
      const blob = files.get(name) ?? archiveFail(`its manifest names ${name}, which is not in the archive`)
      return { digest: blob.digest, diffId: diffIds[i], size: blob.size, mediaType: blob.digest === diffIds[i] ? MEDIA.ociLayer : MEDIA.ociLayerGzip }
    })
    const manifest = await writeManifest(store, config, layers)
    out.push({
      manifest,
      config: config.digest,
      layers,
      platform: { os: configJson.os ?? 'linux', architecture: configJson.architecture ?? 'amd64', ...(configJson.variant ? { variant: configJson.variant } : {}) },
      ...(configJson.created ? { created: configJson.created } : {}),
      tags: (entry.RepoTags ?? []).map((t) => formatReference(parseReference(t))),
      digests: [],
    })
  }
  return out
}

async function ociImages(store: ImageStore, index: Index, files: Map<string, Stored>): Promise<NewImage[]> {
  const blobJson = async <T>(d: Descriptor, check: (value: unknown, what: string, fail: shape.Fail) => T): Promise<T> => {
    const stored = files.get(`blobs/sha256/${hex(d.digest)}`)
    if (!stored || stored.digest !== d.digest) archiveFail(`blob ${d.digest} is missing or does not match its digest`)
    return readDocument(store, stored, d.digest, check)
  }
  const out: NewImage[] = []
  for (const top of index.manifests) {
    let descriptor = top
    if (INDEX_TYPES.includes(top.mediaType)) {
      const nested = await blobJson(top, shape.index)
      descriptor = selectPlatform(nested, hostPlatform()) ?? archiveFail(`it has no image for ${hostPlatform().os}/${hostPlatform().architecture}`)
    }
    const manifest = await blobJson(descriptor, shape.manifest)
    const configJson = await blobJson(manifest.config, shape.config)
    const diffIds = configJson.rootfs?.diff_ids ?? []
    if (diffIds.length !== manifest.layers.length) archiveFail(`manifest ${descriptor.digest} and its config disagree on the number of layers`)
    const layers = manifest.layers.map((l, i) => {
      const stored = files.get(`blobs/sha256/${hex(l.digest)}`)
      if (!stored || stored.digest !== l.digest) archiveFail(`layer ${l.digest} is missing or does not match its digest`)
      return { digest: l.digest, diffId: diffIds[i], size: l.size, mediaType: l.mediaType }
    })
    const name = top.annotations?.['io.containerd.image.name'] ?? top.annotations?.['org.opencontainers.image.ref.name']
    const tags = name && /[/:]/.test(name) ? [formatReference(parseReference(name))] : []
    out.push({
      manifest: descriptor.digest,
      config: manifest.config.digest,
      layers,
      platform: { os: configJson.os ?? 'linux', architecture: configJson.architecture ?? 'amd64' },
      ...(configJson.created ? { created: configJson.created } : {}),
      tags,
      digests: [],
    })
  }
  return out
}

/** An OCI manifest for an image that came without one (docker save archives). */
async function writeManifest(store: ImageStore, config: Stored, layers: { digest: string; size: number; mediaType: string }[]): Promise<string> {
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }
  return store.blobs.putBuffer(JSON.stringify(manifest))
}

/**
 * Writes a `docker save` archive (manifest.json, `<config>.json`,
 * `<diff-id>/layer.tar` uncompressed, repositories) that `docker load` and
 * `pier image load` read back.
 */
export async function saveArchive(store: ImageStore, refs: string[], out: Writable): Promise<void> {
  const pack = tar.pack()
  const done = pipeline(pack, out)
  const manifest: DockerManifestEntry[] = []
  const repositories: Record<string, Record<string, string>> = {}
  const written = new Set<string>()
  const add = (header: Partial<tar.Header> & { name: string }, body: Buffer | Readable) => addTarEntry(pack, header, body)

  for (const ref of refs) {
    const record = await store.require(ref)
    const configName = `${hex(record.id)}.json`
    if (!written.has(configName)) {
      await add({ name: configName, mtime: new Date(0) }, await store.blobs.read(record.id))
      written.add(configName)
    }
    const layerNames: string[] = []
    for (const layer of record.layers) {
      const name = `${hex(layer.diffId)}/layer.tar`
      layerNames.push(name)
      if (written.has(name)) continue
      written.add(name)
      await add({ name: hex(layer.diffId), type: 'directory', mtime: new Date(0) }, Buffer.alloc(0))
      if (layer.digest === layer.diffId) {
        await add({ name, size: await store.blobs.size(layer.digest), mtime: new Date(0) }, store.blobs.stream(layer.digest))
      } else {
        // Compressed in the store: unpack to a temporary file first, as a tar entry needs its size up front.
        const temp = store.root.temp('save-layer')
        try {
          await pipeline(store.blobs.stream(layer.digest), createGunzip(), createWriteStream(temp))
          await add({ name, size: (await stat(temp)).size, mtime: new Date(0) }, createReadStream(temp))
        } finally {
          await rm(temp, { force: true })
        }
      }
    }
    const parsed = parseReference(ref)
    const asked = parsed.digest === undefined && !/^(sha256:)?[a-f0-9]{12,64}$/.test(ref) ? [formatReference(parsed)] : []
    const tags = asked.length ? asked : (await store.inspect(record.id))?.tags ?? []
    manifest.push({ Config: configName, RepoTags: tags.map(familiarName), Layers: layerNames })
    for (const tag of tags) {
      const name = familiarName(tag)
      const cut = name.lastIndexOf(':')
      ;(repositories[name.slice(0, cut)] ??= {})[name.slice(cut + 1)] = hex(record.layers[record.layers.length - 1]?.diffId ?? record.id)
    }
  }
  await add({ name: 'manifest.json', mtime: new Date(0) }, Buffer.from(JSON.stringify(manifest)))
  await add({ name: 'repositories', mtime: new Date(0) }, Buffer.from(JSON.stringify(repositories)))
  pack.finalize()
  await done
}

function json(buffer: Buffer, what: string): unknown {
  return shape.parseDocument(buffer, what, archiveFail)
}

/** A JSON blob of the archive, its size checked before it is read, its shape after. */
async function readDocument<T>(store: ImageStore, stored: Stored, what: string, check: (value: unknown, what: string, fail: shape.Fail) => T): Promise<T> {
  if (stored.size > shape.MAX_DOCUMENT) archiveFail(`${what} is ${stored.size} bytes, more than the ${shape.MAX_DOCUMENT} pier reads for one JSON document`)
  return check(json(await store.blobs.read(stored.digest), what), what, archiveFail)
}

function archiveFail(why: string): never {
  throw new EngineError('invalid', `cannot load the archive: ${why}`)
}

function archiveError(err: unknown): Error {
  if (err instanceof EngineError) return err
  const message = (err as Error)?.message ?? String(err)
  if (/unexpected end/i.test(message)) return new EngineError('invalid', 'cannot load the archive: it ends early (truncated?)')
  if (/invalid tar header|not a tar/i.test(message)) return new EngineError('invalid', 'cannot load the archive: it is not a tar archive (docker save or OCI)')
  return new EngineError('invalid', `cannot load the archive: ${message}`)
}

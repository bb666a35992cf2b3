import type { Image, Platform, Progress, PullOptions } from '../../engine.js'
import { EngineError } from '../../errors.js'
import { formatReference, parseReference, repositoryName, type Reference } from '../../reference.js'
import { sha256 } from './blobs.js'
import * as shape from './documents.js'
import { formatPlatform, hostPlatform, INDEX_TYPES, MANIFEST_TYPES, MEDIA, selectPlatform, type Manifest } from './oci.js'
import { RegistryClient } from '../../registry-client.js'
import { short, type ImageStore } from './store.js'

const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest]
/** Layers downloaded at once: enough to fill a link, few enough not to thrash a small disk. */
const PARALLEL_LAYERS = 3

/**
 * Pulls an image: the manifest (the platform's, from an index), then the
 * config and every layer not already stored, each verified against its
 * digest before it is used; then the store unpacks and names it.
 */
export async function pullImage(store: ImageStore, text: string, options: PullOptions = {}): Promise<Image> {
  const ref = parseReference(text)
  const want = options.platform ?? hostPlatform()
  const progress = options.progress
  const client = new RegistryClient(ref.registry, ref.repository, ['pull'])
  const name = formatReference(ref)

  progress?.({ kind: 'status', id: name, status: 'Pulling' })
  let fetched = await fetchManifest(client, ref.digest ?? ref.tag!, ref.digest)
  if (INDEX_TYPES.includes(fetched.mediaType)) {
    const index = shape.index(document(fetched.body, name, 'the index'), 'the index', fail(name))
    const chosen = selectPlatform(index, want)
    if (!chosen) {
      const available = index.manifests.filter((m) => m.platform).map((m) => formatPlatform(m.platform as Platform))
      throw new EngineError('platform', `${name} has no image for ${formatPlatform(want)} (it has: ${available.join(', ') || 'none'})`)
    }
    fetched = await fetchManifest(client, chosen.digest, chosen.digest)
  }
  if (!MANIFEST_TYPES.includes(fetched.mediaType)) {
    throw new EngineError('unsupported', `${name}: unsupported manifest type "${fetched.mediaType}" (pier reads OCI and Docker v2 schema 2 manifests)`)
  }
  const manifest = shape.manifest(document(fetched.body, name, 'the manifest'), 'the manifest', fail(name))
  if (manifest.config.size > shape.MAX_DOCUMENT) fail(name)(`the config is ${manifest.config.size} bytes, more than the ${shape.MAX_DOCUMENT} pier reads for one JSON document`)

  await download(store, client, manifest.config.digest, progress)
  const config = shape.config(document(await store.blobs.read(manifest.config.digest), name, 'the config'), 'the config', fail(name))
  const platform: Platform = { os: config.os ?? 'linux', architecture: config.architecture ?? 'amd64', ...(config.variant ? { variant: config.variant } : {}) }
  if (platform.os !== want.os || platform.architecture !== want.architecture) {
    throw new EngineError('platform', `${name} is an image for ${formatPlatform(platform)}, not ${formatPlatform(want)}`)
  }
  const diffIds = config.rootfs?.diff_ids ?? []
  if (diffIds.length !== manifest.layers.length) throw new EngineError('invalid', `${name}: the manifest and the config disagree on the number of layers`)

  await mapLimit(manifest.layers, PARALLEL_LAYERS, (layer) => download(store, client, layer.digest, progress, layer.size))
  const manifestDigest = await store.blobs.putBuffer(fetched.body)
  progress?.({ kind: 'status', id: name, status: `Digest: ${manifestDigest}` })
  return store.add(
    {
      manifest: manifestDigest,
      config: manifest.config.digest,
      layers: manifest.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i], size: l.size, mediaType: l.mediaType })),
      platform,
      ...(config.created ? { created: config.created } : {}),
      tags: ref.tag !== undefined && ref.digest === undefined ? [name] : [],
      digests: [`${repositoryName(ref)}@${manifestDigest}`],
    },
    progress,
  )
}

/** Pushes a stored image: every blob the registry lacks, then the manifest under the tag. */
export async function pushImage(store: ImageStore, text: string, progress?: Progress): Promise<{ digest: string }> {
  const ref: Reference = parseReference(text)
  if (ref.tag === undefined) throw new EngineError('invalid', `push needs a tag, not a digest: ${text}`)
  const record = await store.require(text)
  const client = new RegistryClient(ref.registry, ref.repository, ['pull', 'push'])
  const blobs = [...record.layers.map((l) => ({ digest: l.digest })), { digest: record.id }]
  await mapLimit(blobs, PARALLEL_LAYERS, async ({ digest }) => {
    if (await client.hasBlob(digest)) {
      progress?.({ kind: 'status', id: short(digest), status: 'Layer already exists' })
      return
    }
    const size = await store.blobs.size(digest)
    progress?.({ kind: 'bytes', id: short(digest), status: 'Pushing', current: 0, total: size })
    await client.uploadBlob(digest, store.blobs.stream(digest), size)
    progress?.({ kind: 'bytes', id: short(digest), status: 'Pushed', current: size, total: size })
  })
  const body = await store.blobs.read(record.manifest)
  const mediaType = (JSON.parse(body.toString('utf8')) as Manifest).mediaType ?? MEDIA.ociManifest
  await client.putManifest(ref.tag, body, mediaType)
  const digest = sha256(body)
  await store.catalog.update((data) => {
    const image = data.images[record.id]
    const name = `${repositoryName(ref)}@${digest}`
    if (image && !image.digests.includes(name)) image.digests.push(name)
  })
  progress?.({ kind: 'status', id: formatReference(ref), status: `Pushed, digest: ${digest}` })
  return { digest }
}

/** A manifest, checked against the digest it was asked by (or that the registry announced). */
async function fetchManifest(client: RegistryClient, reference: string, expected?: string) {
  const fetched = await client.manifest(reference, ACCEPT)
  const actual = sha256(fetched.body)
  const claimed = expected ?? fetched.digest
  if (claimed && claimed !== actual) {
    throw new EngineError('integrity', `${client.registry}/${client.repository}: the manifest does not match its digest (expected ${claimed}, got ${actual})`)
  }
  let mediaType = fetched.mediaType
  if (!mediaType || mediaType === 'application/json') {
    const declared = document(fetched.body, `${client.registry}/${client.repository}`, 'the manifest') as { mediaType?: unknown }
    mediaType = typeof declared?.mediaType === 'string' ? declared.mediaType : MEDIA.ociManifest
  }
  return { body: fetched.body, mediaType }
}

/** Downloads a blob unless the store has it; the store keeps it only if its digest matches. */
async function download(store: ImageStore, client: RegistryClient, digest: string, progress?: Progress, total?: number): Promise<void> {
  const id = short(digest)
  if (await store.blobs.has(digest)) {
    progress?.({ kind: 'status', id, status: 'Already exists' })
    return
  }
  const { stream, size } = await client.blob(digest)
  let last = 0
  try {
    await store.blobs.put(stream, digest, (current) => {
      // Report about every 256 KiB, not every chunk.
      if (current - last >= 256 * 1024) {
        last = current
        progress?.({ kind: 'bytes', id, status: 'Downloading', current, total: total ?? size })
      }
    })
  } catch (err) {
    const what = `${client.registry}/${client.repository}: blob ${digest}`
    if (err instanceof EngineError) throw new EngineError(err.code, `${what}: ${err.message}`, { cause: err })
    throw new EngineError('registry', `${what}: the download failed: ${(err as Error).message}`, { cause: err })
  }
  progress?.({ kind: 'status', id, status: 'Download complete' })
}

/** A JSON document a registry sent, parsed; a registry's document of the wrong shape is that registry's error. */
function document(body: Buffer, name: string, what: string): unknown {
  return shape.parseDocument(body, what, fail(name))
}

function fail(name: string): shape.Fail {
  return (why: string) => {
    throw new EngineError('registry', `${name}: ${why}`)
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++])
  })
  await Promise.all(workers)
}

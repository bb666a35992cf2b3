import type { ConfigJson, Descriptor, Index, Manifest } from './oci.js'

/**
 * The most bytes of one JSON document (manifest, index, config, docker save's
 * manifest.json) pier reads into memory. Real ones are a few KiB; the cap is
 * what keeps a hostile 700 MB manifest.json from costing gigabytes.
 */
export const MAX_DOCUMENT = 4 * 1024 * 1024

/** One image of docker save's manifest.json. */
export interface DockerManifestEntry {
  Config: string
  RepoTags?: string[] | null
  Layers: string[]
}

/** Reports a document that does not have the shape pier reads; returns never. */
export type Fail = (why: string) => never

/**
 * Shape checks for documents from outside (archives, registries), so that a
 * document of the wrong shape is one clear line naming it, not a TypeError
 * deep in the code that reads it. They check what pier reads, nothing more.
 */
export function parseDocument(buffer: Buffer, what: string, fail: Fail): unknown {
  if (buffer.length > MAX_DOCUMENT) fail(`${what} is ${buffer.length} bytes, more than the ${MAX_DOCUMENT} pier reads for one JSON document`)
  try {
    return JSON.parse(buffer.toString('utf8'))
  } catch {
    return fail(`${what} is not valid JSON`)
  }
}

export function dockerManifest(value: unknown, fail: Fail): DockerManifestEntry[] {
  if (!Array.isArray(value)) fail(`manifest.json is ${kind(value)}, not a list of images`)
  for (const [n, e] of (value as unknown[]).entries()) {
    const at = `manifest.json image ${n + 1}`
    if (!isObject(e)) fail(`${at} is ${kind(e)}, not an object`)
    if (typeof e.Config !== 'string') fail(`${at} has no Config file name`)
    if (!isStrings(e.Layers)) fail(`${at}: Layers is not a list of file names`)
    if (e.RepoTags !== undefined && e.RepoTags !== null && !isStrings(e.RepoTags)) fail(`${at}: RepoTags is not a list of names`)
  }
  return value as DockerManifestEntry[]
}

export function index(value: unknown, what: string, fail: Fail): Index {
  if (!isObject(value) || !Array.isArray(value.manifests)) fail(`${what} is not an image index (no list of manifests)`)
  ;(value.manifests as unknown[]).forEach((d, n) => descriptor(d, `${what} manifest ${n + 1}`, fail))
  return value as unknown as Index
}

export function manifest(value: unknown, what: string, fail: Fail): Manifest {
  if (!isObject(value)) fail(`${what} is ${kind(value)}, not an image manifest`)
  descriptor(value.config, `${what} config`, fail)
  if (!Array.isArray(value.layers)) fail(`${what} has no list of layers`)
  ;(value.layers as unknown[]).forEach((d, n) => descriptor(d, `${what} layer ${n + 1}`, fail))
  return value as unknown as Manifest
}

export function config(value: unknown, what: string, fail: Fail): ConfigJson {
  if (!isObject(value)) fail(`${what} is ${kind(value)}, not an image config`)
  if (value.rootfs !== undefined && (!isObject(value.rootfs) || !isStrings(value.rootfs.diff_ids))) fail(`${what}: rootfs.diff_ids is not a list of digests`)
  if (value.config !== undefined && value.config !== null && !isObject(value.config)) fail(`${what}: config is ${kind(value.config)}, not an object`)
  for (const key of ['os', 'architecture', 'variant', 'created']) if (value[key] !== undefined && typeof value[key] !== 'string') fail(`${what}: ${key} is not a string`)
  return value as ConfigJson
}

function descriptor(value: unknown, what: string, fail: Fail): Descriptor {
  if (!isObject(value) || typeof value.digest !== 'string') fail(`${what} is not a descriptor (no digest)`)
  if (value.platform !== undefined && !isObject(value.platform)) fail(`${what}: platform is not an object`)
  return value as unknown as Descriptor
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((s) => typeof s === 'string')
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`
}

import type { ImageConfig, Platform } from '../../engine.js'
import { imageConfigOf, type RunConfigJson } from '../../image-config.js'
export { formatPlatform, hostPlatform, parsePlatform } from '../../platform.js'

/** Media types pier reads and writes (OCI and Docker v2 schema 2). */
export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const

export const MANIFEST_TYPES: string[] = [MEDIA.ociManifest, MEDIA.dockerManifest]
export const INDEX_TYPES: string[] = [MEDIA.ociIndex, MEDIA.dockerList]

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: { os: string; architecture: string; variant?: string }
  annotations?: Record<string, string>
}

export interface Manifest {
  schemaVersion: 2
  mediaType?: string
  config: Descriptor
  layers: Descriptor[]
}

export interface Index {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
}

/** The image configuration JSON (OCI image config / Docker image JSON), as far as pier reads it. */
export interface ConfigJson {
  architecture?: string
  os?: string
  variant?: string
  created?: string
  config?: RunConfigJson
  rootfs?: { type: string; diff_ids: string[] }
}

/** Picks the manifest for `want` from an index; the variant only counts when asked for. */
export function selectPlatform(index: Index, want: Platform): Descriptor | undefined {
  return index.manifests.find(
    (m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture && (!want.variant || m.platform.variant === want.variant),
  )
}

export function imageConfig(json: ConfigJson): ImageConfig {
  return imageConfigOf(json.config)
}

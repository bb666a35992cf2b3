/**
 * The engine contract: the one interface the planner and the CLI use to reach
 * whatever runs containers. Drivers live in their own folders
 * (src/engine/embedded/, later src/engine/docker/) and nothing outside a
 * driver imports from inside it.
 *
 * Resources carry Compose's labels (com.docker.compose.*); the engine keeps
 * them and filters by them, and keeps no other record of projects: the
 * planner reads the truth back from the engine.
 */

export type Labels = Record<string, string>

export interface EngineInfo {
  name: string
  version: string
  /** The engine's state directory (embedded) or endpoint (docker). */
  root: string
  os: string
  architecture: string
}

/** Progress of a long operation, one event per step or per chunk of bytes. */
export type ProgressEvent =
  | { kind: 'status'; id: string; status: string }
  | { kind: 'bytes'; id: string; status: string; current: number; total?: number }

export type Progress = (event: ProgressEvent) => void

// ---------------------------------------------------------------- images

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

/** The parts of an image's configuration that decide how its containers run. */
export interface ImageConfig {
  env: string[]
  entrypoint?: string[]
  cmd?: string[]
  workingDir?: string
  user?: string
  exposedPorts: string[]
  volumes: string[]
  labels: Labels
  stopSignal?: string
  healthcheck?: { test?: string[]; interval?: number; timeout?: number; startPeriod?: number; startInterval?: number; retries?: number }
}

export interface Image {
  /** The image ID: the digest of its configuration, `sha256:…`. */
  id: string
  /** Normalized references that point at it: `docker.io/library/busybox:latest`. */
  tags: string[]
  /** `name@sha256:…` of the manifests it was pulled or pushed as. */
  digests: string[]
  platform: Platform
  created?: string
  /** Uncompressed size of all its layers, in bytes. */
  size: number
  /** Uncompressed layer digests (diff IDs), bottom first. */
  layers: string[]
  config: ImageConfig
}

export interface PullOptions {
  platform?: Platform
  progress?: Progress
}

export interface ImageEngine {
  /** An image by reference (`busybox`, `name:tag`, `name@sha256:…`) or ID; undefined when absent. */
  inspectImage(ref: string): Promise<Image | undefined>
  listImages(): Promise<Image[]>
  pullImage(ref: string, options?: PullOptions): Promise<Image>
  pushImage(ref: string, options?: { progress?: Progress }): Promise<{ digest: string }>
  /** Loads a `docker save` archive or an OCI image archive; returns what it holds. */
  loadImages(archive: NodeJS.ReadableStream, options?: { progress?: Progress }): Promise<Image[]>
  /** Writes a `docker save`-compatible archive of the given references. */
  saveImages(refs: string[], out: NodeJS.WritableStream): Promise<void>
  tagImage(source: string, target: string): Promise<void>
  /** Removes a reference; the image itself goes with its last reference (or at once with `force`). */
  removeImage(ref: string, options?: { force?: boolean }): Promise<{ untagged: string[]; deleted: string[] }>
}

/**
 * The whole contract. Volumes, networks and containers arrive with the
 * engine's next parts; their shapes are fixed here so the planner can be
 * written against them.
 */
export interface Engine extends ImageEngine {
  info(): Promise<EngineInfo>
  close(): Promise<void>
}

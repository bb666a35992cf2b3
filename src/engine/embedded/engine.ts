import { arch, release } from 'node:os'
import type { Readable, Writable } from 'node:stream'
import type { Engine, EngineInfo, Image, Progress, PullOptions } from '../engine.js'
import { loadArchive, saveArchive } from './images/archive.js'
import { pullImage, pushImage } from './images/registry.js'
import { ImageStore } from './images/store.js'
import { Root } from './root.js'

export interface EmbeddedOptions {
  /** The state directory; default PIER_ROOT, else /var/lib/pier. */
  root?: string
}

/**
 * The daemonless engine: everything lives under one root directory and every
 * call is done by this process, coordinating with other pier processes
 * through the root's locks.
 */
export class EmbeddedEngine implements Engine {
  private readonly root: Root
  private readonly images: ImageStore

  constructor(options: EmbeddedOptions = {}) {
    this.root = new Root(options.root)
    this.images = new ImageStore(this.root)
  }

  async info(): Promise<EngineInfo> {
    return { name: 'embedded', version: release(), root: this.root.dir, os: 'linux', architecture: arch() }
  }

  async close(): Promise<void> {}

  inspectImage(ref: string): Promise<Image | undefined> {
    return this.images.inspect(ref)
  }

  listImages(): Promise<Image[]> {
    return this.images.list()
  }

  pullImage(ref: string, options: PullOptions = {}): Promise<Image> {
    return pullImage(this.images, ref, options)
  }

  pushImage(ref: string, options: { progress?: Progress } = {}): Promise<{ digest: string }> {
    return pushImage(this.images, ref, options.progress)
  }

  loadImages(archive: NodeJS.ReadableStream, options: { progress?: Progress } = {}): Promise<Image[]> {
    return loadArchive(this.images, archive as Readable, options.progress)
  }

  saveImages(refs: string[], out: NodeJS.WritableStream): Promise<void> {
    return saveArchive(this.images, refs, out as Writable)
  }

  tagImage(source: string, target: string): Promise<void> {
    return this.images.tag(source, target)
  }

  removeImage(ref: string, options: { force?: boolean } = {}): Promise<{ untagged: string[]; deleted: string[] }> {
    return this.images.remove(ref, options.force)
  }
}

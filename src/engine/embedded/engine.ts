import { existsSync } from 'node:fs'
import { arch, release } from 'node:os'
import type { Readable, Writable } from 'node:stream'
import type { BuildSpec, Container, ContainerSpec, EngineCapabilities, EngineEvent, Engine, EngineInfo, ExecSpec, HistoryEntry, Image, ImageChanges, Labels, LogLine, LogOptions, Network, NetworkSpec, ProcessList, Progress, PruneReport, PullOptions, Volume, VolumeSpec } from '../engine.js'
import { describeNetwork, NetworkStore } from '../../network/networks.js'
import { EngineError } from '../errors.js'
import { RegistryClient } from '../registry-client.js'
import { commitContainer, exportContainer } from './container-image.js'
import { pollEvents } from './events.js'
import { ContainerManager } from './containers/manager.js'
import { removePaths } from './containers/remove-paths.js'
import { Runtime } from './containers/runtime.js'
import { blkioWeightWorks } from './containers/spec.js'
import { VolumeStore } from './volumes.js'
import { loadArchive, saveArchive } from './images/archive.js'
import { imageHistory } from './images/history.js'
import { addLayerImage, putRootfsTar } from './images/new-image.js'
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
  private readonly volumes: VolumeStore
  private readonly networks: NetworkStore
  private readonly containers: ContainerManager

  /** What this driver does not honour yet: each is named to the user in one line. */
  readonly capabilities: EngineCapabilities = {
    fields: {
      usernsMode: { action: 'refuse', accepts: (v) => v === 'host', why: 'the embedded engine runs without user namespaces' },
      logging: { action: 'warn', accepts: (v) => ['json-file', 'local', undefined].includes((v as { driver?: string }).driver), why: 'the embedded engine keeps every log in its own file (json-file)' },
      storageOpt: { action: 'warn' },
      gpus: { action: 'refuse', why: 'the embedded engine has no GPU support' },
      // Rates are honoured; weights only where the kernel has a proportional I/O scheduler for cgroups.
      ...(blkioWeightWorks()
        ? {}
        : { 'limits.blkio': { action: 'warn' as const, accepts: (v: unknown) => !(v as { weight?: number }).weight && !(v as { weightDevice?: unknown[] }).weightDevice?.length, why: 'this host has no I/O scheduler that weighs cgroups (blkio.weight): weights are ignored' } }),
    },
  }

  constructor(options: EmbeddedOptions = {}) {
    this.root = new Root(options.root)
    this.images = new ImageStore(this.root)
    this.volumes = new VolumeStore(this.root)
    this.networks = new NetworkStore(this.root.path('networks'), (id) => existsSync(this.root.path('containers', id, 'record.json')))
    this.containers = new ContainerManager(this.root, this.images, this.volumes, this.networks)
  }

  async info(): Promise<EngineInfo> {
    return { name: 'embedded', version: release(), root: this.root.dir, os: 'linux', architecture: arch() }
  }

  async close(): Promise<void> {
    this.containers.close()
  }

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

  async buildImage(spec: BuildSpec, options: { output?: (line: string) => void } = {}): Promise<Image> {
    // Loaded when a build runs: the Dockerfile parser is not needed otherwise.
    const { buildImage } = await import('./build/builder.js')
    const runtimeDir = this.root.path('runtime')
    let runtime: Runtime | undefined
    return buildImage(
      {
        root: this.root,
        images: this.images,
        // Looked for when a RUN step runs: a build whose every step is cached spawns no `runc --version`.
        get runtime() {
          return (runtime ??= Runtime.detect(runtimeDir))
        },
        pull: (ref) => this.pullImage(ref),
        output: options.output ?? (() => {}),
      },
      spec,
    )
  }

  imageHistory(ref: string): Promise<HistoryEntry[]> {
    return imageHistory(this.images, ref)
  }

  /** One layer, the tar as given; Docker's history says where it came from unless a message does. */
  async importImage(archive: NodeJS.ReadableStream, options: ImageChanges & { tag?: string } = {}): Promise<Image> {
    const layer = await putRootfsTar(this.images, archive as Readable)
    try {
      return await addLayerImage(this.images, { layer, createdBy: '', ...(options.tag ? { tag: options.tag } : {}) }, { ...options, message: options.message || 'Imported from -' })
    } catch (err) {
      // A refused tar (a hostile entry, a bad change) leaves no blob behind, unless an image already had that very layer.
      const data = await this.images.catalog.read()
      if (!Object.values(data.images).some((img) => img.layers.some((l) => l.digest === layer.digest))) await this.images.blobs.remove(layer.digest)
      throw err
    }
  }

  async pruneImages(options: { all?: boolean } = {}): Promise<PruneReport> {
    // Under the containers lock, so no container is made from an image between the look and the removal.
    return this.root.withLock('containers', async () => {
      const inUse = new Set((await this.containers.records.all({ locked: true })).map((r) => r.image))
      return this.images.prune(inUse, options.all)
    })
  }

  pruneBuildCache(): Promise<{ entries: number; reclaimed: number }> {
    return this.images.pruneBuildCache()
  }

  async checkLogin(server: string, credentials: { username: string; password: string }): Promise<void> {
    await new RegistryClient(server, '', ['pull'], credentials).ping()
  }

  async searchRegistry(registry: string, term: string, options: { limit?: number } = {}): Promise<string[]> {
    const names = await new RegistryClient(registry, '').catalog()
    return names.filter((n) => n.includes(term)).slice(0, options.limit ?? 25)
  }

  // ------------------------------------------------------------ volumes

  listVolumes(labels: Labels = {}): Promise<Volume[]> {
    return this.volumes.list(labels)
  }

  createVolume(spec: VolumeSpec): Promise<Volume> {
    return this.volumes.create(spec)
  }

  /** As Docker: a volume that any container on this root mounts (running or not, any project) stays. */
  async removeVolume(name: string): Promise<void> {
    await this.root.withLock('containers', async () => {
      const users = await this.containers.volumeUsers(name)
      if (users.length) throw new EngineError('conflict', `volume ${name} is in use by container ${users.join(', ')}: remove the container first`)
      await this.volumes.remove(name)
    })
  }

  // ------------------------------------------------------------ networks

  async listNetworks(labels: Labels = {}): Promise<Network[]> {
    return (await this.networks.list(labels)).map(describeNetwork)
  }

  async inspectNetwork(name: string): Promise<Network | undefined> {
    const n = await this.networks.inspect(name)
    return n && describeNetwork(n)
  }

  async createNetwork(spec: NetworkSpec): Promise<Network> {
    return describeNetwork(await this.networks.create(spec))
  }

  removeNetwork(name: string): Promise<void> {
    return this.networks.remove(name)
  }

  // ------------------------------------------------------------ containers

  listContainers(labels: Labels = {}, options: { all?: boolean } = {}): Promise<Container[]> {
    return this.containers.list(labels, options)
  }

  inspectContainer(id: string): Promise<Container | undefined> {
    return this.containers.inspect(id)
  }

  createContainer(spec: ContainerSpec): Promise<Container> {
    return this.containers.create(spec)
  }

  start(id: string): Promise<void> {
    return this.containers.start(id)
  }

  startAttached(id: string, io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
    return this.containers.startAttached(id, io)
  }

  stop(id: string, options?: { signal?: string; timeoutMs?: number }): Promise<void> {
    return this.containers.stop(id, options)
  }

  kill(id: string, signal?: string): Promise<void> {
    return this.containers.kill(id, signal)
  }

  remove(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void> {
    return this.containers.remove(id, options)
  }

  pause(id: string): Promise<void> {
    return this.containers.pause(id)
  }

  unpause(id: string): Promise<void> {
    return this.containers.unpause(id)
  }

  wait(id: string): Promise<number> {
    return this.containers.wait(id)
  }

  logs(id: string, options?: LogOptions): AsyncIterable<LogLine> {
    return this.containers.logs(id, options)
  }

  exec(id: string, spec: ExecSpec): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
    return this.containers.exec(id, spec)
  }

  top(id: string): Promise<ProcessList> {
    return this.containers.top(id)
  }

  events(labels: Labels = {}): AsyncIterable<EngineEvent> {
    return pollEvents(() => this.containers.list({}, { all: true }), labels)
  }

  copyFrom(id: string, path: string): Promise<NodeJS.ReadableStream> {
    return this.containers.copyFrom(id, path)
  }

  copyTo(id: string, dir: string, archive: NodeJS.ReadableStream): Promise<void> {
    return this.containers.copyTo(id, dir, archive as Readable)
  }

  commitContainer(id: string, options: ImageChanges & { tag?: string; pause?: boolean } = {}): Promise<Image> {
    return commitContainer(this.images, this.containers, id, options)
  }

  exportContainer(id: string): Promise<NodeJS.ReadableStream> {
    return exportContainer(this.containers, id)
  }

  async removePaths(id: string, paths: string[]): Promise<void> {
    const container = await this.containers.inspect(id)
    if (!container) throw new EngineError('not-found', `no such container: ${id}`)
    await removePaths(this.root, container.id, paths)
  }
}

import type { Readable } from 'node:stream'
import type { BuildSpec, Container, ContainerSpec, Engine, EngineCapabilities, EngineEvent, EngineInfo, ExecSpec, HistoryEntry, Image, ImageChanges, Labels, LogLine, LogOptions, Network, NetworkSpec, ProcessList, Progress, PruneReport, PullOptions, Volume, VolumeSpec } from '../engine.js'
import { EngineError } from '../errors.js'
import { DockerClient, labelFilter, parseHost } from './client.js'
import { type ContainerInspect, containerOf, createBody, isAnonymousVolume, orderedNetworks } from './containers.js'
import { dockerEvents } from './events.js'
import { ImageCommands } from './image-commands.js'
import { Images } from './images.js'
import { containerLogs, execIn, startAttached } from './io.js'
import { Networks } from './networks.js'
import { Volumes } from './volumes.js'

const path = (id: string) => `/containers/${encodeURIComponent(id)}`

/**
 * The engine contract over the Docker Engine API (dockerd, or Podman's
 * compatible service) at DOCKER_HOST. The daemon keeps all state; this
 * driver only translates. Open it with `DockerEngine.connect()`, which
 * negotiates the API version.
 */
export class DockerEngine implements Engine {
  private readonly images: Images
  private readonly imageCommands: ImageCommands
  private readonly volumes: Volumes
  private readonly networks: Networks
  private server = { Version: '', Os: 'linux', Arch: '' }

  /** dockerd honours every field of a ContainerSpec (gpus need a GPU runtime on the daemon's side; it says so itself). */
  readonly capabilities: EngineCapabilities = { fields: {} }

  private constructor(private readonly client: DockerClient) {
    this.images = new Images(client)
    this.imageCommands = new ImageCommands(client, (ref) => this.images.inspect(ref))
    this.volumes = new Volumes(client)
    this.networks = new Networks(client)
  }

  static async connect(host?: string): Promise<DockerEngine> {
    const engine = new DockerEngine(new DockerClient(parseHost(host)))
    try {
      engine.server = await engine.client.negotiate()
    } catch (e) {
      engine.client.close()
      throw e
    }
    return engine
  }

  /** The API version in use, negotiated with the daemon. */
  get apiVersion(): string {
    return this.client.version
  }

  async info(): Promise<EngineInfo> {
    return { name: 'docker', version: this.server.Version, root: this.client.endpoint.url, os: this.server.Os, architecture: this.server.Arch }
  }

  async close(): Promise<void> {
    this.client.close()
  }

  // ------------------------------------------------------------ images

  inspectImage(ref: string): Promise<Image | undefined> {
    return this.images.inspect(ref)
  }

  listImages(): Promise<Image[]> {
    return this.images.list()
  }

  pullImage(ref: string, options?: PullOptions): Promise<Image> {
    return this.images.pull(ref, options)
  }

  pushImage(ref: string, options: { progress?: Progress } = {}): Promise<{ digest: string }> {
    return this.images.push(ref, options.progress)
  }

  loadImages(archive: NodeJS.ReadableStream, options: { progress?: Progress } = {}): Promise<Image[]> {
    return this.images.load(archive, options.progress)
  }

  saveImages(refs: string[], out: NodeJS.WritableStream): Promise<void> {
    return this.images.save(refs, out)
  }

  tagImage(source: string, target: string): Promise<void> {
    return this.images.tag(source, target)
  }

  removeImage(ref: string, options: { force?: boolean } = {}): Promise<{ untagged: string[]; deleted: string[] }> {
    return this.images.remove(ref, options.force)
  }

  buildImage(spec: BuildSpec, options: { output?: (line: string) => void } = {}): Promise<Image> {
    return this.images.build(spec, options.output)
  }

  imageHistory(ref: string): Promise<HistoryEntry[]> {
    return this.imageCommands.history(ref)
  }

  importImage(archive: NodeJS.ReadableStream, options: ImageChanges & { tag?: string } = {}): Promise<Image> {
    return this.imageCommands.import(archive, options)
  }

  pruneImages(options: { all?: boolean } = {}): Promise<PruneReport> {
    return this.imageCommands.prune(!!options.all)
  }

  pruneBuildCache(): Promise<{ entries: number; reclaimed: number }> {
    return this.imageCommands.pruneBuildCache()
  }

  checkLogin(server: string, credentials: { username: string; password: string }): Promise<void> {
    return this.imageCommands.checkLogin(server, credentials)
  }

  searchRegistry(registry: string, term: string, options: { limit?: number } = {}): Promise<string[]> {
    return this.imageCommands.search(registry, term, options.limit)
  }

  commitContainer(id: string, options: ImageChanges & { tag?: string; pause?: boolean } = {}): Promise<Image> {
    return this.imageCommands.commit(id, options)
  }

  exportContainer(id: string): Promise<NodeJS.ReadableStream> {
    return this.imageCommands.export(id)
  }

  // ------------------------------------------------------------ volumes and networks

  listVolumes(labels: Labels = {}): Promise<Volume[]> {
    return this.volumes.list(labels)
  }

  createVolume(spec: VolumeSpec): Promise<Volume> {
    return this.volumes.create(spec)
  }

  removeVolume(name: string): Promise<void> {
    return this.volumes.remove(name)
  }

  listNetworks(labels: Labels = {}): Promise<Network[]> {
    return this.networks.list(labels)
  }

  inspectNetwork(name: string): Promise<Network | undefined> {
    return this.networks.inspect(name)
  }

  createNetwork(spec: NetworkSpec): Promise<Network> {
    return this.networks.create(spec)
  }

  removeNetwork(name: string): Promise<void> {
    return this.networks.remove(name)
  }

  // ------------------------------------------------------------ containers

  private async inspectRaw(id: string): Promise<ContainerInspect | undefined> {
    try {
      return await this.client.json<ContainerInspect>('GET', `${path(id)}/json`)
    } catch (e) {
      if (e instanceof EngineError && e.code === 'not-found') return undefined
      throw e
    }
  }

  private async mustInspect(id: string): Promise<ContainerInspect> {
    const c = await this.inspectRaw(id)
    if (!c) throw new EngineError('not-found', `no such container: ${id}`)
    return c
  }

  async listContainers(labels: Labels = {}, options: { all?: boolean } = {}): Promise<Container[]> {
    const found = await this.client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: options.all ?? false, filters: labelFilter(labels) } })
    // One inspect each, in parallel: the list's summary lacks health, exit code, times and mounts' names.
    const all = await Promise.all(found.map((c) => this.inspectRaw(c.Id)))
    return all.filter((c): c is ContainerInspect => !!c).map(containerOf)
  }

  async inspectContainer(id: string): Promise<Container | undefined> {
    const c = await this.inspectRaw(id)
    return c && containerOf(c)
  }

  /** Created on its first network; the others are joined before it starts, as Compose does. */
  async createContainer(spec: ContainerSpec): Promise<Container> {
    const api = (v: string) => this.client.atLeast(v)
    const { Id } = await this.client.json<{ Id: string }>('POST', '/containers/create', { query: { name: spec.name }, body: createBody(spec, api), what: `container ${spec.name}` })
    try {
      if (spec.networkMode === 'bridge') for (const n of orderedNetworks(spec).slice(1)) await this.networks.connect(n.network, Id, n, api('1.44'))
    } catch (e) {
      await this.client.call('DELETE', path(Id), { query: { force: true, v: true } }).catch(() => {})
      throw e
    }
    return containerOf(await this.mustInspect(Id))
  }

  async start(id: string): Promise<void> {
    await this.client.call('POST', `${path(id)}/start`, { what: `container ${id}` })
  }

  async startAttached(id: string, io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
    const c = await this.mustInspect(id)
    return startAttached(this.client, id, c.Config.Tty, io)
  }

  /** `t` is whole seconds, rounded up; a signal other than the stop signal needs API 1.42, else it is sent by hand. */
  async stop(id: string, options: { signal?: string; timeoutMs?: number } = {}): Promise<void> {
    const t = options.timeoutMs === undefined ? undefined : Math.ceil(options.timeoutMs / 1000)
    if (options.signal && !this.client.atLeast('1.42')) {
      const c = await this.mustInspect(id)
      if (c.State.Status !== 'running' && c.State.Status !== 'paused' && c.State.Status !== 'restarting') return
      await this.kill(id, options.signal).catch(() => {})
      const exited = this.wait(id).then(() => true)
      const late = await Promise.race([exited, new Promise<boolean>((r) => setTimeout(() => r(false), (t ?? 10) * 1000))])
      if (!late) await this.kill(id, 'KILL').catch(() => {})
      await exited
      return
    }
    await this.client.call('POST', `${path(id)}/stop`, { query: { t, signal: options.signal }, what: `container ${id}` })
  }

  async kill(id: string, signal?: string): Promise<void> {
    await this.client.call('POST', `${path(id)}/kill`, { query: { signal }, what: `container ${id}` })
  }

  /** With `volumes`, its anonymous volumes go too — also those it inherited by name, which Docker's v=1 keeps. */
  async remove(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = options.volumes ? await this.inspectRaw(id) : undefined
    await this.client.call('DELETE', path(id), { query: { force: options.force ?? false, v: options.volumes ?? false }, what: `container ${id}` })
    for (const m of c?.Mounts ?? []) {
      if (m.Type !== 'volume' || !isAnonymousVolume(m.Name)) continue
      await this.volumes.remove(m.Name!).catch((e: unknown) => {
        // Already gone (Docker removed it), or still used by another container: either way not ours to fail on.
        if (!(e instanceof EngineError && (e.code === 'not-found' || e.code === 'conflict'))) throw e
      })
    }
  }

  async pause(id: string): Promise<void> {
    await this.client.call('POST', `${path(id)}/pause`, { what: `container ${id}` })
  }

  async unpause(id: string): Promise<void> {
    await this.client.call('POST', `${path(id)}/unpause`, { what: `container ${id}` })
  }

  async wait(id: string): Promise<number> {
    const res = await this.client.request('POST', `${path(id)}/wait`, { query: { condition: 'not-running' }, stream: true, what: `container ${id}` })
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode: number; Error?: { Message?: string } | null }
    if (body.Error?.Message) throw new EngineError('runtime', `container ${id}: ${body.Error.Message}`)
    return body.StatusCode
  }

  async *logs(id: string, options?: LogOptions): AsyncIterable<LogLine> {
    const c = await this.mustInspect(id)
    yield* containerLogs(this.client, id, c.Config.Tty, options)
  }

  exec(id: string, spec: ExecSpec): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
    return execIn(this.client, id, spec)
  }

  async top(id: string): Promise<ProcessList> {
    const r = await this.client.json<{ Titles: string[]; Processes: string[][] | null }>('GET', `${path(id)}/top`, { what: `container ${id}` })
    return { titles: r.Titles, processes: r.Processes ?? [] }
  }

  copyFrom(id: string, p: string): Promise<NodeJS.ReadableStream> {
    return this.client.request('GET', `${path(id)}/archive`, { query: { path: p }, stream: true, what: `container ${id}` })
  }

  async copyTo(id: string, dir: string, archive: NodeJS.ReadableStream): Promise<void> {
    await this.client.call('PUT', `${path(id)}/archive`, { query: { path: dir }, body: archive as Readable, what: `container ${id}` })
  }

  /**
   * The Engine API has no call that deletes a path, so this runs `rm -rf` in
   * the container, as Compose Watch does: the image needs an `rm` and the
   * container must run (each said in one line otherwise).
   */
  async removePaths(id: string, paths: string[]): Promise<void> {
    for (const p of paths) {
      if (!p.startsWith('/') || /(^|\/)\.\.?\/?$/.test(p) || p === '/') throw new EngineError('invalid', `cannot remove "${p}" from the container: give an absolute path below its root`)
    }
    if (paths.length === 0) return
    const c = await this.mustInspect(id)
    if (c.State.Status !== 'running') throw new EngineError('conflict', `container ${c.Name.replace(/^\//, '')} is not running: the docker engine removes files through rm in the container`)
    const r = await this.exec(id, { argv: ['rm', '-rf', '--', ...paths] }).catch((err: Error) => {
      throw new EngineError('unsupported', `container ${c.Name.replace(/^\//, '')}: cannot run rm to remove files (${err.message})`, { cause: err })
    })
    if (r.exitCode !== 0) throw new EngineError('runtime', `container ${c.Name.replace(/^\//, '')}: rm -rf ${paths.join(' ')} exited ${r.exitCode}: ${(r.stderr ?? '').trim()}`)
  }

  events(labels: Labels = {}): AsyncIterable<EngineEvent> {
    return dockerEvents(this.client, labels)
  }
}

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
  /** The daemon's version (docker); the host kernel's release (embedded, which is pier itself). */
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
  /** Builds an image from a Dockerfile; `output` gets each line of the build's log. */
  buildImage(spec: BuildSpec, options?: { output?: (line: string) => void }): Promise<Image>
}

/** An image to build from a Dockerfile (Compose's `build:`). */
export interface BuildSpec {
  /** The build context: a directory on this machine. */
  context: string
  /** The Dockerfile, relative to the context (default Dockerfile) … */
  dockerfile?: string
  /** … or its text. */
  dockerfileInline?: string
  args: Record<string, string>
  labels: Record<string, string>
  /** The stage to build (`build.target`); the last when not given. */
  target?: string
  /** `--no-cache`: run every step, reusing no cached layer (the results still go into the cache). */
  noCache?: boolean
  /** References to name the image. */
  tags: string[]
}

// ---------------------------------------------------------------- volumes and networks

export interface VolumeSpec {
  name: string
  driver?: string
  driverOpts?: Record<string, string>
  labels: Labels
}

export interface Volume extends VolumeSpec {
  /** Where its data lives on the host (embedded) or the driver's mountpoint. */
  mountpoint: string
  createdAt: string
}

export interface NetworkSpec {
  name: string
  driver?: string
  driverOpts?: Record<string, string>
  internal: boolean
  enableIpv6: boolean
  attachable?: boolean
  ipam?: { subnet?: string; ipRange?: string; gateway?: string; auxAddresses?: Record<string, string> }[]
  labels: Labels
}

export interface Network extends NetworkSpec {
  id: string
  /** The host interface behind it (the bridge), where the engine has one. */
  bridge?: string
  /** The subnets and gateways actually in use. */
  subnets: { subnet: string; gateway: string }[]
}

// ---------------------------------------------------------------- containers

export type Mount =
  | { type: 'volume'; source: string; target: string; readOnly: boolean; nocopy?: boolean; subpath?: string }
  | { type: 'bind'; source: string; target: string; readOnly: boolean; propagation?: string; createHostPath: boolean }
  | { type: 'tmpfs'; target: string; size?: number; mode?: number }
  /** A secret or config: a host file mounted read-only. */
  | { type: 'file'; source: string; target: string; uid?: number; gid?: number; mode?: number }

export interface NetworkAttachment {
  network: string
  aliases: string[]
  ipv4Address?: string
  ipv6Address?: string
  macAddress?: string
  priority?: number
}

export interface PortBinding {
  hostIp?: string
  /** A port or a range to choose from; absent: any free port. */
  hostPort?: string
  containerPort: number
  protocol: 'tcp' | 'udp' | 'sctp'
}

export interface Healthcheck {
  /** `["CMD", …]`, `["CMD-SHELL", "…"]`; `["NONE"]` disables the image's. */
  test: string[]
  intervalMs: number
  timeoutMs: number
  retries: number
  startPeriodMs: number
  startIntervalMs: number
}

/**
 * A container, fully resolved and engine-neutral: the planner fills it from
 * the normalized service and the image, and applies every image default
 * there (entrypoint and command, env, user, working dir, healthcheck, stop
 * signal, VOLUMEs as anonymous volumes) — planner/container-spec.ts is the
 * one place. A driver translates it (an OCI runtime config.json, or a Docker
 * create request) and adds only what the runtime itself adds (PATH when
 * unset, HOME, HOSTNAME).
 *
 * A volume mount with an empty `source` is an anonymous volume: the engine
 * makes one (named by 64 hex digits, labelled com.docker.volume.anonymous)
 * and removes it with the container when asked (`remove(…, {volumes})`).
 */
export interface ContainerSpec {
  name: string
  /** The image ID (`sha256:…`), resolved before creation. */
  image: string
  /** The final argv: entrypoint + command, image defaults applied. */
  argv: string[]
  env: Record<string, string>
  workingDir?: string
  user?: string
  hostname?: string
  domainname?: string
  tty: boolean
  stdinOpen: boolean
  init: boolean
  readOnly: boolean
  privileged: boolean
  capAdd: string[]
  capDrop: string[]
  securityOpt: string[]
  sysctls: Record<string, string>
  ulimits: Record<string, { soft: number; hard: number }>
  devices: { source: string; target: string; permissions: string }[]
  mounts: Mount[]
  shmSize?: number
  /** `bridge` (the networks below), `host`, `none`, `container:ID`. */
  networkMode: string
  networks: NetworkAttachment[]
  ports: PortBinding[]
  /** `expose`: ports the container offers on its networks, recorded only (as Docker records ExposedPorts). */
  expose?: string[]
  /** Legacy links, `container:alias` (the alias resolves to that container here only). */
  links?: string[]
  extraHosts: Record<string, string[]>
  dns: string[]
  dnsSearch: string[]
  dnsOpt: string[]
  /** `private` (default), `shareable`, `host`, or `container:NAME` (the planner resolves `service:`). */
  ipc?: string
  /** Private (default), `host`, or `container:NAME`. */
  pid?: string
  /** `volumes_from`: every mount of these containers (`NAME[:ro|:rw]`), at the same targets. */
  volumesFrom?: string[]
  /** Supplementary groups, by name or number (`group_add`). */
  groupAdd?: string[]
  cgroupParent?: string
  usernsMode?: string
  /** Compose's `logging`: the driver and its options. */
  logging?: { driver: string; options: Record<string, string> }
  storageOpt?: Record<string, string>
  /** `gpus` and GPU device requests, as written. */
  gpus?: unknown
  limits: {
    memory?: number
    memorySwap?: number
    memoryReservation?: number
    memSwappiness?: number
    oomKillDisable?: boolean
    cpus?: number
    cpuShares?: number
    cpuQuota?: number
    cpuPeriod?: number
    cpuset?: string
    pids?: number
    oomScoreAdj?: number
    /** `blkio_config`: weight 10-1000, and per-device weights and rates. */
    blkio?: {
      weight?: number
      weightDevice?: { path: string; weight: number }[]
      readBps?: { path: string; rate: number }[]
      writeBps?: { path: string; rate: number }[]
      readIops?: { path: string; rate: number }[]
      writeIops?: { path: string; rate: number }[]
    }
  }
  healthcheck?: Healthcheck
  restart: { policy: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maxRetries?: number }
  stopSignal: string
  stopGracePeriodMs: number
  labels: Labels
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead'

/** A mount as the engine made it: anonymous volumes carry the name they were given. */
export interface ContainerMount {
  type: Mount['type']
  /** The volume's name (volumes), or the host path (binds, files). */
  source: string
  target: string
  readOnly: boolean
  /** An anonymous volume, made for this container. */
  anonymous?: boolean
}

export interface Container {
  id: string
  name: string
  image: string
  labels: Labels
  mounts: ContainerMount[]
  state: ContainerState
  health?: 'starting' | 'healthy' | 'unhealthy'
  exitCode?: number
  createdAt: string
  startedAt?: string
  finishedAt?: string
  ports: (PortBinding & { hostPort: string })[]
  /** Ports exposed to the container's networks (`expose`, and the image's). */
  exposedPorts: string[]
  /** Network name → address in it. */
  addresses: Record<string, string>
  command: string[]
}

export interface LogLine {
  stream: 'stdout' | 'stderr'
  time: string
  text: string
}

export interface LogOptions {
  follow?: boolean
  tail?: number
  since?: string
  until?: string
  timestamps?: boolean
}

export interface ExecSpec {
  argv: string[]
  env?: Record<string, string>
  user?: string
  workingDir?: string
  tty?: boolean
  privileged?: boolean
  /** Start it and return at once (`exec -d`). */
  detach?: boolean
  /** With a streaming exec, the process's standard streams. */
  stdio?: { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }
}

/** `docker top`: column titles and one row per process. */
export interface ProcessList {
  titles: string[]
  processes: string[][]
}

export interface EngineEvent {
  time: string
  type: 'container' | 'network' | 'volume' | 'image'
  action: string
  id: string
  labels: Labels
}

export interface ContainerEngine {
  listVolumes(labels: Labels): Promise<Volume[]>
  createVolume(spec: VolumeSpec): Promise<Volume>
  removeVolume(name: string): Promise<void>

  listNetworks(labels: Labels): Promise<Network[]>
  inspectNetwork(name: string): Promise<Network | undefined>
  createNetwork(spec: NetworkSpec): Promise<Network>
  removeNetwork(name: string): Promise<void>

  /** Containers whose labels include all of `labels`; stopped ones too with `all`. */
  listContainers(labels: Labels, options?: { all?: boolean }): Promise<Container[]>
  inspectContainer(id: string): Promise<Container | undefined>
  createContainer(spec: ContainerSpec): Promise<Container>
  start(id: string): Promise<void>
  /** Starts it in the foreground, its stdio joined to `io`, and resolves with its exit code (`run` attached). */
  startAttached(id: string, io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number>
  /** `signal` (default the container's stop signal), then SIGKILL after the grace period. */
  stop(id: string, options?: { signal?: string; timeoutMs?: number }): Promise<void>
  kill(id: string, signal?: string): Promise<void>
  remove(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>
  pause(id: string): Promise<void>
  unpause(id: string): Promise<void>
  /** Resolves with the exit code when the container stops. */
  wait(id: string): Promise<number>
  logs(id: string, options?: LogOptions): AsyncIterable<LogLine>
  exec(id: string, spec: ExecSpec): Promise<{ exitCode: number; stdout?: string; stderr?: string }>
  top(id: string): Promise<ProcessList>
  /** `docker cp` out: a tar stream of a path in the container. */
  copyFrom(id: string, path: string): Promise<NodeJS.ReadableStream>
  /** `docker cp` in: a tar stream unpacked into a directory of the container. */
  copyTo(id: string, dir: string, archive: NodeJS.ReadableStream): Promise<void>
  /** Paths (absolute, in the container) removed with what is under them, links not followed; absent ones are no error. For file sync's deletes: needs no `rm` in the image, and may need no running container. */
  removePaths(id: string, paths: string[]): Promise<void>
  events(labels: Labels): AsyncIterable<EngineEvent>
}

/**
 * The parts of a ContainerSpec a driver may not honour. Each driver says,
 * for every one it cannot honour, whether the planner warns (the field is
 * ignored, and the user is told in one line) or refuses the service before
 * anything is made. A field not listed is honoured.
 */
export type OptionalField =
  | 'ipc'
  | 'pid'
  | 'volumesFrom'
  | 'groupAdd'
  | 'cgroupParent'
  | 'usernsMode'
  | 'logging'
  | 'storageOpt'
  | 'gpus'
  | 'limits.memSwappiness'
  | 'limits.oomKillDisable'
  | 'limits.blkio'

export interface EngineCapabilities {
  /** Field → what the planner does when a service sets it; `accepts` says which values are honoured anyway. */
  fields: Partial<Record<OptionalField, { action: 'warn' | 'refuse'; accepts?: (value: unknown) => boolean; why?: string }>>
}

/**
 * The whole contract: a driver implements every method (one that lacks a
 * method does not compile) and may throw EngineError('unsupported') from
 * one it cannot serve, with a line saying so.
 */
export interface Engine extends ImageEngine, ContainerEngine {
  info(): Promise<EngineInfo>
  /** What the driver honours of a ContainerSpec; read by the planner before anything is made. */
  readonly capabilities: EngineCapabilities
  close(): Promise<void>
}

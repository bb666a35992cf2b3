/**
 * The normalized Compose project: what every later stage reads. Field names
 * are Compose's own, so `pier config` prints them as `docker compose config`
 * does. Invariants: no short syntax, no unresolved variable, every relative
 * path absolute, durations in milliseconds, byte sizes in bytes.
 */

export interface Project {
  name: string
  /** The project directory: relative paths were resolved against it. */
  workingDir: string
  configFiles: string[]
  envFiles: string[]
  /** The variables interpolation saw: .env and --env-file, then the process environment over them. */
  environment: Record<string, string>
  /** Profiles enabled for this load. */
  profiles: string[]
  /** Active services, by name. */
  services: Record<string, Service>
  /** Services left out because none of their profiles is enabled. */
  disabledServices: Record<string, Service>
  networks: Record<string, Network>
  volumes: Record<string, Volume>
  secrets: Record<string, FileObject>
  configs: Record<string, FileObject>
  models?: Record<string, unknown>
  /** Top-level `x-` extensions, kept as written. */
  extensions: Record<string, unknown>
}

export type Duration = number // milliseconds
export type Bytes = number

export interface Service {
  name: string
  profiles?: string[]
  image?: string
  build?: Build
  /** Absent: the image's default. An empty list: no command. */
  command?: string[]
  entrypoint?: string[]
  environment: Record<string, string>
  env_file?: EnvFile[]
  labels: Record<string, string>
  label_file?: string[]
  annotations?: Record<string, string>
  ports: Port[]
  expose: string[]
  volumes: Mount[]
  volumes_from?: string[]
  tmpfs?: string[]
  networks?: Record<string, ServiceNetwork | null>
  network_mode?: string
  depends_on: Record<string, Dependency>
  links?: string[]
  external_links?: string[]
  extra_hosts?: Record<string, string[]>
  dns?: string[]
  dns_search?: string[]
  dns_opt?: string[]
  healthcheck?: Healthcheck
  restart?: string
  deploy?: Deploy
  scale?: number
  container_name?: string
  hostname?: string
  domainname?: string
  user?: string
  working_dir?: string
  tty?: boolean
  stdin_open?: boolean
  read_only?: boolean
  privileged?: boolean
  init?: boolean
  attach?: boolean
  cap_add?: string[]
  cap_drop?: string[]
  security_opt?: string[]
  sysctls?: Record<string, string>
  ulimits?: Record<string, Ulimit>
  devices?: Device[]
  secrets?: FileReference[]
  configs?: FileReference[]
  mem_limit?: Bytes
  memswap_limit?: Bytes
  mem_reservation?: Bytes
  mem_swappiness?: number
  shm_size?: Bytes
  cpus?: number
  cpu_shares?: number
  cpu_quota?: number
  cpu_period?: number
  cpu_rt_period?: number
  cpu_rt_runtime?: number
  cpu_count?: number
  cpu_percent?: number
  cpuset?: string
  pids_limit?: number
  oom_kill_disable?: boolean
  oom_score_adj?: number
  stop_signal?: string
  stop_grace_period?: Duration
  ipc?: string
  pid?: string
  uts?: string
  userns_mode?: string
  cgroup?: string
  cgroup_parent?: string
  group_add?: string[]
  platform?: string
  pull_policy?: string
  runtime?: string
  isolation?: string
  mac_address?: string
  logging?: { driver?: string; options?: Record<string, string> }
  storage_opt?: Record<string, unknown>
  post_start?: Hook[]
  pre_stop?: Hook[]
  develop?: Develop
  /** Everything else the specification allows (blkio_config, gpus, …), kept as validated. */
  [attribute: string]: unknown
}

export interface Build {
  context: string
  dockerfile?: string
  dockerfile_inline?: string
  args?: Record<string, string | null>
  labels?: Record<string, string>
  target?: string
  ssh?: string[]
  cache_from?: string[]
  cache_to?: string[]
  network?: string
  shm_size?: Bytes
  extra_hosts?: Record<string, string[]>
  secrets?: FileReference[]
  tags?: string[]
  platforms?: string[]
  no_cache?: boolean
  pull?: boolean
  privileged?: boolean
  additional_contexts?: Record<string, string>
  [attribute: string]: unknown
}

export interface EnvFile {
  path: string
  required: boolean
  format?: string
}

export interface Port {
  name?: string
  mode: string
  host_ip?: string
  target: number
  /** A port or a range (`8000-8010`); absent: a random host port. */
  published?: string
  protocol: 'tcp' | 'udp' | 'sctp'
  app_protocol?: string
}

export type Mount =
  | { type: 'bind'; source: string; target: string; read_only?: boolean; consistency?: string; bind: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z'; recursive?: string } }
  | { type: 'volume'; source?: string; target: string; read_only?: boolean; consistency?: string; volume: { nocopy?: boolean; subpath?: string; labels?: Record<string, string> } }
  | { type: 'tmpfs'; target: string; read_only?: boolean; tmpfs: { size?: Bytes; mode?: number } }
  | { type: 'npipe' | 'cluster'; source?: string; target: string; read_only?: boolean }
  | { type: 'image'; source: string; target: string; read_only?: boolean; image: { subpath?: string } }

export interface ServiceNetwork {
  aliases?: string[]
  ipv4_address?: string
  ipv6_address?: string
  link_local_ips?: string[]
  mac_address?: string
  driver_opts?: Record<string, string>
  priority?: number
  gw_priority?: number
  interface_name?: string
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully'

export interface Dependency {
  condition: DependencyCondition
  required: boolean
  restart?: boolean
  /**
   * The attribute that made this a dependency when the user did not write it
   * in depends_on (Compose adds it by itself); absent for a written one. Not
   * printed by `pier config`: Compose's output has no such field.
   */
  implied?: ImpliedBy
}

/** Attributes that name another service and so make it a dependency. */
export type ImpliedBy = 'links' | 'network_mode' | 'ipc' | 'pid' | 'uts' | 'cgroup' | 'volumes_from'

export interface Healthcheck {
  /** `["NONE"]`, `["CMD", …]` or `["CMD-SHELL", "…"]`; absent: the image's. */
  test?: string[]
  interval?: Duration
  timeout?: Duration
  retries?: number
  start_period?: Duration
  start_interval?: Duration
  disable?: boolean
}

export interface Deploy {
  mode?: string
  replicas?: number
  labels?: Record<string, string>
  resources?: {
    limits?: { cpus?: number; memory?: Bytes; pids?: number }
    reservations?: { cpus?: number; memory?: Bytes; devices?: unknown[]; generic_resources?: unknown[] }
  }
  restart_policy?: { condition?: string; delay?: Duration; max_attempts?: number; window?: Duration }
  update_config?: UpdateConfig
  rollback_config?: UpdateConfig
  [attribute: string]: unknown
}

/** How Swarm replaces a service's tasks (update_config), or goes back (rollback_config). */
export interface UpdateConfig {
  parallelism?: number
  delay?: Duration
  failure_action?: string
  monitor?: Duration
  max_failure_ratio?: number
  order?: string
}

export interface Ulimit {
  soft: number
  hard: number
}

export interface Device {
  source: string
  target: string
  permissions: string
}

export interface FileReference {
  source: string
  target?: string
  uid?: string
  gid?: string
  mode?: number
}

export interface Hook {
  command: string[]
  user?: string
  privileged?: boolean
  working_dir?: string
  environment?: Record<string, string>
}

export interface Develop {
  watch?: WatchRule[]
}

export interface WatchRule {
  path: string
  action: 'rebuild' | 'sync' | 'restart' | 'sync+restart' | 'sync+exec'
  target?: string
  ignore?: string[]
  include?: string[]
  initial_sync?: boolean
  exec?: Hook
}

export interface Network {
  name: string
  driver?: string
  driver_opts?: Record<string, string>
  attachable?: boolean
  enable_ipv4?: boolean
  enable_ipv6?: boolean
  internal?: boolean
  external?: boolean
  labels?: Record<string, string>
  ipam?: {
    driver?: string
    config?: { subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }[]
    options?: Record<string, string>
  }
}

export interface Volume {
  name: string
  driver?: string
  driver_opts?: Record<string, string>
  external?: boolean
  labels?: Record<string, string>
}

/** A top-level secret or config. */
export interface FileObject {
  name: string
  file?: string
  environment?: string
  content?: string
  external?: boolean
  labels?: Record<string, string>
  driver?: string
  driver_opts?: Record<string, string>
  template_driver?: string
}

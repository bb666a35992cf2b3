import type { ContainerMount, ContainerSpec, Image, Mount } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { Project, Service } from '../spec/project.js'
import { PlanError } from './errors.js'
import { configHash } from './hash.js'
import { containersOf, firstContainerOf, resolveServiceMode } from './names.js'

export const PIER_COMPOSE_VERSION = '2.30.0'

export interface SpecContext {
  /** `--scale` overrides: links reach every replica of the linked service. */
  scale?: Record<string, number>
  /** The mounts of the container this one replaces: its anonymous volumes are taken over. */
  inherited?: ContainerMount[]
}

/**
 * The engine-neutral spec of replica `number` of `service`: the service's
 * settings resolved against its image — every image default is applied here
 * and nowhere else (entrypoint and command as Docker combines them, env,
 * user, working dir, healthcheck, stop signal, VOLUMEs) — named resources
 * given their real names, and Compose's labels. Pure: called at planning
 * time, so a spec error stops the plan before anything is made.
 */
export function containerSpec(project: Project, service: Service, number: number, image: Image, name: string, context: SpecContext = {}): ContainerSpec {
  const entrypoint = service.entrypoint ?? image.config.entrypoint ?? []
  // A service that sets its entrypoint drops the image's command, as Docker does.
  const command = service.command ?? (service.entrypoint !== undefined ? [] : image.config.cmd ?? [])
  const argv = [...entrypoint, ...command]
  if (argv.length === 0) throw new PlanError('invalid', `service "${service.name}" has no command: its image ${image.tags[0] ?? image.id} sets none either; add command:`)
  const limits = service.deploy?.resources?.limits
  return {
    name,
    image: image.id,
    argv,
    env: { ...imageEnv(image), ...service.environment },
    ...((service.working_dir ?? image.config.workingDir) ? { workingDir: service.working_dir ?? image.config.workingDir } : {}),
    ...((service.user ?? image.config.user) ? { user: service.user ?? image.config.user } : {}),
    ...(service.hostname ? { hostname: service.hostname } : {}),
    ...(service.domainname ? { domainname: service.domainname } : {}),
    tty: service.tty ?? false,
    stdinOpen: service.stdin_open ?? false,
    init: service.init ?? false,
    readOnly: service.read_only ?? false,
    privileged: service.privileged ?? false,
    capAdd: service.cap_add ?? [],
    capDrop: service.cap_drop ?? [],
    securityOpt: service.security_opt ?? [],
    sysctls: service.sysctls ?? {},
    ulimits: service.ulimits ?? {},
    devices: service.devices ?? [],
    mounts: inherit(withImageVolumes(mounts(project, service), image), context.inherited),
    ...(service.shm_size !== undefined ? { shmSize: service.shm_size } : {}),
    networkMode: networkMode(project, service),
    networks: Object.entries(service.networks ?? {}).map(([key, cfg]) => ({
      network: project.networks[key]?.name ?? key,
      aliases: [service.name, ...(cfg?.aliases ?? [])],
      ...(cfg?.ipv4_address ? { ipv4Address: cfg.ipv4_address } : {}),
      ...(cfg?.ipv6_address ? { ipv6Address: cfg.ipv6_address } : {}),
      ...(cfg?.mac_address ? { macAddress: cfg.mac_address } : {}),
      ...(cfg?.priority !== undefined ? { priority: cfg.priority } : {}),
    })),
    ports: service.ports.map((p) => ({ ...(p.host_ip ? { hostIp: p.host_ip } : {}), ...(p.published ? { hostPort: p.published } : {}), containerPort: p.target, protocol: p.protocol })),
    expose: [...new Set([...(image.config.exposedPorts ?? []), ...service.expose.map((e) => (e.includes('/') ? e : `${e}/tcp`))])],
    links: links(project, service, context.scale),
    extraHosts: service.extra_hosts ?? {},
    dns: service.dns ?? [],
    dnsSearch: service.dns_search ?? [],
    dnsOpt: service.dns_opt ?? [],
    ...(service.ipc ? { ipc: resolveServiceMode(project, service.ipc) } : {}),
    ...(service.pid ? { pid: resolveServiceMode(project, service.pid) } : {}),
    ...(service.volumes_from?.length ? { volumesFrom: service.volumes_from.map((v) => volumesFrom(project, v)) } : {}),
    ...(service.group_add?.length ? { groupAdd: service.group_add.map(String) } : {}),
    ...(service.cgroup_parent ? { cgroupParent: service.cgroup_parent } : {}),
    ...(service.userns_mode ? { usernsMode: service.userns_mode } : {}),
    ...(service.logging?.driver || service.logging?.options ? { logging: { driver: service.logging.driver ?? 'json-file', options: service.logging.options ?? {} } } : {}),
    ...(service.storage_opt ? { storageOpt: Object.fromEntries(Object.entries(service.storage_opt).map(([k, v]) => [k, String(v)])) } : {}),
    ...(gpus(service) !== undefined ? { gpus: gpus(service) } : {}),
    limits: {
      ...(service.mem_limit ?? limits?.memory) !== undefined ? { memory: service.mem_limit ?? limits?.memory } : {},
      ...(service.memswap_limit !== undefined ? { memorySwap: service.memswap_limit } : {}),
      ...(service.mem_reservation !== undefined ? { memoryReservation: service.mem_reservation } : {}),
      ...(service.cpus ?? limits?.cpus) !== undefined ? { cpus: service.cpus ?? limits?.cpus } : {},
      ...(service.cpu_shares !== undefined ? { cpuShares: service.cpu_shares } : {}),
      ...(service.cpu_quota !== undefined ? { cpuQuota: service.cpu_quota } : {}),
      ...(service.cpu_period !== undefined ? { cpuPeriod: service.cpu_period } : {}),
      ...(service.cpuset !== undefined ? { cpuset: service.cpuset } : {}),
      ...(service.pids_limit ?? limits?.pids) !== undefined ? { pids: service.pids_limit ?? limits?.pids } : {},
      ...(service.oom_score_adj !== undefined ? { oomScoreAdj: service.oom_score_adj } : {}),
      ...(service.mem_swappiness !== undefined ? { memSwappiness: service.mem_swappiness } : {}),
      ...(service.oom_kill_disable !== undefined ? { oomKillDisable: service.oom_kill_disable } : {}),
      ...blkio(service),
    },
    ...healthcheck(service, image),
    restart: restartPolicy(service),
    stopSignal: service.stop_signal ?? image.config.stopSignal ?? 'SIGTERM',
    stopGracePeriodMs: service.stop_grace_period ?? 10_000,
    labels: {
      ...service.labels,
      [LABEL.project]: project.name,
      [LABEL.service]: service.name,
      [LABEL.number]: String(number),
      [LABEL.oneoff]: 'False',
      [LABEL.configHash]: configHash(service),
      [LABEL.image]: image.id,
      [LABEL.version]: PIER_COMPOSE_VERSION,
      [LABEL.workingDir]: project.workingDir,
      [LABEL.configFiles]: project.configFiles.join(','),
      [LABEL.dependsOn]: Object.entries(service.depends_on).map(([d, v]) => `${d}:${v.condition}:${v.restart ?? false}`).join(','),
    },
  }
}

/** `service:NAME` becomes the first container of that service (its container_name if it has one), as Compose joins it. */
function networkMode(project: Project, service: Service): string {
  return resolveServiceMode(project, service.network_mode ?? 'bridge')
}

/** `volumes_from: [db, "db:ro", "container:x:rw"]` → container names with their mode. */
function volumesFrom(project: Project, entry: string): string {
  const parts = entry.split(':')
  const [name, mode] = parts[0] === 'container' ? [parts[1], parts[2]] : [firstContainerOf(project, parts[0]), parts[1]]
  return mode ? `${name}:${mode}` : name
}

/** The image's `Env` (`K=V` lines) as a map; the service's environment goes over it. */
function imageEnv(image: Image): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of image.config.env ?? []) {
    const cut = line.indexOf('=')
    if (cut > 0) out[line.slice(0, cut)] = line.slice(cut + 1)
  }
  return out
}

/** The image's VOLUME paths that no mount of the service covers become anonymous volumes, as Docker makes them. */
function withImageVolumes(own: Mount[], image: Image): Mount[] {
  const taken = new Set(own.map((m) => m.target.replace(/\/+$/, '')))
  const extra = (image.config.volumes ?? []).map((v) => v.replace(/\/+$/, '') || '/').filter((t) => !taken.has(t))
  return [...own, ...extra.map((target): Mount => ({ type: 'volume', source: '', target, readOnly: false }))]
}

/**
 * A replacement container takes over the anonymous volumes of the one it
 * replaces, target by target (Compose's create-as-replacement), so a
 * database without a named volume keeps its data across a config change.
 */
function inherit(mounts: Mount[], inherited: ContainerMount[] | undefined): Mount[] {
  if (!inherited?.length) return mounts
  return mounts.map((m) => {
    if (m.type !== 'volume' || m.source !== '') return m
    const old = inherited.find((o) => o.anonymous && o.type === 'volume' && o.target === m.target)
    return old ? { ...m, source: old.source } : m
  })
}

/** `gpus:` or a device reservation with the gpu capability, as written; the driver decides. */
function gpus(service: Service): unknown {
  if (service.gpus !== undefined) return service.gpus
  const devices = (service.deploy?.resources as { reservations?: { devices?: { capabilities?: string[] }[] } } | undefined)?.reservations?.devices
  const wanted = devices?.filter((d) => d.capabilities?.includes('gpu'))
  return wanted?.length ? wanted : undefined
}

function blkio(service: Service): Pick<ContainerSpec['limits'], 'blkio'> {
  const b = service.blkio_config as
    | { weight?: number; weight_device?: { path: string; weight: number }[]; device_read_bps?: { path: string; rate: number }[]; device_write_bps?: { path: string; rate: number }[]; device_read_iops?: { path: string; rate: number }[]; device_write_iops?: { path: string; rate: number }[] }
    | undefined
  if (!b) return {}
  return {
    blkio: {
      ...(b.weight !== undefined ? { weight: b.weight } : {}),
      ...(b.weight_device ? { weightDevice: b.weight_device } : {}),
      ...(b.device_read_bps ? { readBps: b.device_read_bps } : {}),
      ...(b.device_write_bps ? { writeBps: b.device_write_bps } : {}),
      ...(b.device_read_iops ? { readIops: b.device_read_iops } : {}),
      ...(b.device_write_iops ? { writeIops: b.device_write_iops } : {}),
    },
  }
}

/**
 * `links: [db, "db:database"]` as engine links, `container:alias`, one per
 * replica of the linked service (the alias then resolves to all of them);
 * external_links name containers already.
 */
function links(project: Project, service: Service, scale?: Record<string, number>): string[] {
  const out: string[] = []
  for (const link of service.links ?? []) {
    const [target, alias = target] = link.split(':')
    for (const name of containersOf(project, target, scale)) out.push(`${name}:${alias}`)
  }
  for (const link of service.external_links ?? []) {
    const [target, alias = target] = link.split(':')
    out.push(`${target}:${alias}`)
  }
  return out
}

function mounts(project: Project, service: Service): Mount[] {
  const out: Mount[] = []
  for (const m of service.volumes) {
    if (m.type === 'volume') out.push({ type: 'volume', source: m.source ? project.volumes[m.source]?.name ?? m.source : '', target: m.target, readOnly: m.read_only ?? false, ...(m.volume.nocopy ? { nocopy: true } : {}), ...(m.volume.subpath ? { subpath: m.volume.subpath } : {}) })
    else if (m.type === 'bind') out.push({ type: 'bind', source: m.source, target: m.target, readOnly: m.read_only ?? false, createHostPath: m.bind.create_host_path ?? false, ...(m.bind.propagation ? { propagation: m.bind.propagation } : {}) })
    else if (m.type === 'tmpfs') out.push({ type: 'tmpfs', target: m.target, ...(m.tmpfs.size !== undefined ? { size: m.tmpfs.size } : {}), ...(m.tmpfs.mode !== undefined ? { mode: m.tmpfs.mode } : {}) })
  }
  for (const path of service.tmpfs ?? []) out.push({ type: 'tmpfs', target: path })
  for (const [kind, base] of [['secrets', '/run/secrets/'], ['configs', '/']] as const) {
    for (const ref of service[kind] ?? []) {
      const source = project[kind][ref.source]
      if (!source?.file) throw new PlanError('invalid', `service "${service.name}": the ${kind.slice(0, -1)} "${ref.source}" has no file: the embedded engine mounts file-based ${kind} only`)
      const target = ref.target ? (ref.target.startsWith('/') ? ref.target : `${base}${ref.target}`) : `${base}${ref.source}`
      out.push({ type: 'file', source: source.file, target, ...(ref.mode !== undefined ? { mode: ref.mode } : {}) })
    }
  }
  return out
}

function healthcheck(service: Service, image: Image): Pick<ContainerSpec, 'healthcheck'> {
  const own = service.healthcheck
  const inherited = image.config.healthcheck
  if (own?.disable) return {}
  const test = own?.test ?? inherited?.test
  if (!test || test.length === 0 || test[0] === 'NONE') return {}
  return {
    healthcheck: {
      test,
      intervalMs: own?.interval ?? inherited?.interval ?? 30_000,
      timeoutMs: own?.timeout ?? inherited?.timeout ?? 30_000,
      retries: own?.retries ?? inherited?.retries ?? 3,
      startPeriodMs: own?.start_period ?? inherited?.startPeriod ?? 0,
      startIntervalMs: own?.start_interval ?? inherited?.startInterval ?? 5_000,
    },
  }
}

/** The service's restart policy as the engine takes it (restart:, else deploy.restart_policy). */
export function restartPolicy(service: Service): ContainerSpec['restart'] {
  const text = service.restart ?? deployRestart(service)
  const [policy, max] = text.split(':')
  return { policy: policy as ContainerSpec['restart']['policy'], ...(max ? { maxRetries: Number(max) } : {}) }
}

/** deploy.restart_policy maps onto the same policies (any → always, on-failure, none → no). */
function deployRestart(service: Service): string {
  const rp = service.deploy?.restart_policy
  if (!rp?.condition) return 'no'
  if (rp.condition === 'any') return 'always'
  if (rp.condition === 'on-failure') return rp.max_attempts ? `on-failure:${rp.max_attempts}` : 'on-failure'
  return 'no'
}

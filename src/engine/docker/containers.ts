import type { Container, ContainerMount, ContainerSpec, ContainerState, Mount, NetworkAttachment, PortBinding } from '../engine.js'

/**
 * ContainerSpec → the body of POST /containers/create, and Docker's inspect
 * JSON → Container. The spec is already final (the planner applied the
 * image's defaults), so the argv goes whole into Entrypoint and Cmd is
 * empty: Docker then adds nothing of the image's own (with an Entrypoint
 * given, it ignores the image's Cmd). `docker inspect` shows the command
 * under Entrypoint rather than split as written; nothing reads it there.
 */

const ns = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 1e6))
const portKey = (p: { containerPort: number; protocol: string }) => `${p.containerPort}/${p.protocol}`

/** The network Docker joins at creation: the highest priority first, as Compose picks it. */
export function orderedNetworks(spec: ContainerSpec): NetworkAttachment[] {
  return [...spec.networks].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))
}

export function endpointConfig(n: NetworkAttachment, macInEndpoint: boolean): Record<string, unknown> {
  return {
    Aliases: n.aliases,
    ...(n.ipv4Address || n.ipv6Address ? { IPAMConfig: { ...(n.ipv4Address ? { IPv4Address: n.ipv4Address } : {}), ...(n.ipv6Address ? { IPv6Address: n.ipv6Address } : {}) } } : {}),
    ...(n.macAddress && macInEndpoint ? { MacAddress: n.macAddress } : {}),
  }
}

/** `api`: whether the negotiated API has a field (MacAddress per endpoint 1.44, StartInterval 1.44, Subpath 1.45). */
export function createBody(spec: ContainerSpec, api: (v: string) => boolean): Record<string, unknown> {
  const networks = orderedNetworks(spec)
  const first = spec.networkMode === 'bridge' ? networks[0] : undefined
  const exposed: Record<string, object> = {}
  for (const p of spec.ports) exposed[portKey(p)] = {}
  for (const e of spec.expose ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {}
  const hc = spec.healthcheck
  return {
    Image: spec.image,
    ...(spec.argv.length ? { Entrypoint: spec.argv, Cmd: [] } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    ...(spec.user ? { User: spec.user } : {}),
    ...(spec.hostname ? { Hostname: spec.hostname } : {}),
    ...(spec.domainname ? { Domainname: spec.domainname } : {}),
    Tty: spec.tty,
    OpenStdin: spec.stdinOpen,
    // As `docker run -i` sets it: the end of an attached input closes the container's stdin and nothing
    // else; without it dockerd also closes the attached stdout and stderr there, and output is lost.
    // (An attach that ends, then, leaves the container's stdin closed.)
    StdinOnce: spec.stdinOpen,
    AttachStdin: false,
    ExposedPorts: exposed,
    StopSignal: spec.stopSignal,
    StopTimeout: Math.ceil(spec.stopGracePeriodMs / 1000),
    ...(first?.macAddress && !api('1.44') ? { MacAddress: first.macAddress } : {}),
    ...(hc
      ? {
          Healthcheck: {
            Test: hc.test,
            Interval: ns(hc.intervalMs),
            Timeout: ns(hc.timeoutMs),
            Retries: hc.retries,
            StartPeriod: ns(hc.startPeriodMs),
            ...(api('1.44') ? { StartInterval: ns(hc.startIntervalMs) } : {}),
          },
        }
      : {}),
    HostConfig: hostConfig(spec, first, api),
    ...(first ? { NetworkingConfig: { EndpointsConfig: { [first.network]: endpointConfig(first, api('1.44')) } } } : {}),
  }
}

function hostConfig(spec: ContainerSpec, first: NetworkAttachment | undefined, api: (v: string) => boolean): Record<string, unknown> {
  const l = spec.limits
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {}
  for (const p of spec.ports) (bindings[portKey(p)] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.hostPort ?? '' })
  const rates = (list?: { path: string; rate: number }[]) => list?.map((r) => ({ Path: r.path, Rate: r.rate }))
  return {
    // A bind whose host path may be created goes through Binds (-v creates it); every other mount through Mounts.
    Binds: spec.mounts.filter((m) => m.type === 'bind' && m.createHostPath).map((m) => bindLine(m as Extract<Mount, { type: 'bind' }>)),
    Mounts: spec.mounts.filter((m) => !(m.type === 'bind' && m.createHostPath)).map((m) => mountOf(m, api)),
    PortBindings: bindings,
    RestartPolicy: { Name: spec.restart.policy === 'no' ? '' : spec.restart.policy, ...(spec.restart.policy === 'on-failure' ? { MaximumRetryCount: spec.restart.maxRetries ?? 0 } : {}) },
    NetworkMode: first ? first.network : spec.networkMode,
    ...(spec.networkMode === 'bridge' && spec.links?.length ? { Links: spec.links } : {}),
    ExtraHosts: Object.entries(spec.extraHosts).flatMap(([host, ips]) => ips.map((ip) => `${host}:${ip}`)),
    Dns: spec.dns,
    DnsSearch: spec.dnsSearch,
    DnsOptions: spec.dnsOpt,
    Init: spec.init,
    Privileged: spec.privileged,
    ReadonlyRootfs: spec.readOnly,
    CapAdd: spec.capAdd,
    CapDrop: spec.capDrop,
    SecurityOpt: spec.securityOpt,
    Sysctls: spec.sysctls,
    Ulimits: Object.entries(spec.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
    Devices: spec.devices.map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.permissions || 'rwm' })),
    ...(spec.shmSize !== undefined ? { ShmSize: spec.shmSize } : {}),
    ...(spec.ipc ? { IpcMode: spec.ipc } : {}),
    ...(spec.pid ? { PidMode: spec.pid } : {}),
    ...(spec.volumesFrom?.length ? { VolumesFrom: spec.volumesFrom } : {}),
    ...(spec.groupAdd?.length ? { GroupAdd: spec.groupAdd } : {}),
    ...(spec.cgroupParent ? { CgroupParent: spec.cgroupParent } : {}),
    ...(spec.usernsMode ? { UsernsMode: spec.usernsMode } : {}),
    ...(spec.logging ? { LogConfig: { Type: spec.logging.driver, Config: spec.logging.options } } : {}),
    ...(spec.storageOpt ? { StorageOpt: spec.storageOpt } : {}),
    ...(spec.gpus !== undefined ? { DeviceRequests: deviceRequests(spec.gpus) } : {}),
    Memory: l.memory ?? 0,
    ...(l.memorySwap !== undefined ? { MemorySwap: l.memorySwap } : {}),
    ...(l.memoryReservation !== undefined ? { MemoryReservation: l.memoryReservation } : {}),
    ...(l.memSwappiness !== undefined ? { MemorySwappiness: l.memSwappiness } : {}),
    ...(l.oomKillDisable !== undefined ? { OomKillDisable: l.oomKillDisable } : {}),
    ...(l.cpus !== undefined ? { NanoCpus: Math.round(l.cpus * 1e9) } : {}),
    ...(l.cpuShares !== undefined ? { CpuShares: l.cpuShares } : {}),
    ...(l.cpuQuota !== undefined ? { CpuQuota: l.cpuQuota } : {}),
    ...(l.cpuPeriod !== undefined ? { CpuPeriod: l.cpuPeriod } : {}),
    ...(l.cpuset !== undefined ? { CpusetCpus: l.cpuset } : {}),
    ...(l.pids !== undefined ? { PidsLimit: l.pids } : {}),
    ...(l.oomScoreAdj !== undefined ? { OomScoreAdj: l.oomScoreAdj } : {}),
    ...(l.blkio
      ? {
          ...(l.blkio.weight !== undefined ? { BlkioWeight: l.blkio.weight } : {}),
          BlkioWeightDevice: l.blkio.weightDevice?.map((w) => ({ Path: w.path, Weight: w.weight })) ?? [],
          BlkioDeviceReadBps: rates(l.blkio.readBps) ?? [],
          BlkioDeviceWriteBps: rates(l.blkio.writeBps) ?? [],
          BlkioDeviceReadIOps: rates(l.blkio.readIops) ?? [],
          BlkioDeviceWriteIOps: rates(l.blkio.writeIops) ?? [],
        }
      : {}),
  }
}

function bindLine(m: Extract<Mount, { type: 'bind' }>): string {
  const opts = [m.readOnly ? 'ro' : 'rw', ...(m.propagation ? [m.propagation] : [])]
  return `${m.source}:${m.target}:${opts.join(',')}`
}

function mountOf(m: Mount, api: (v: string) => boolean): Record<string, unknown> {
  switch (m.type) {
    case 'volume':
      return {
        Type: 'volume',
        ...(m.source ? { Source: m.source } : {}),
        Target: m.target,
        ReadOnly: m.readOnly,
        ...(m.nocopy || (m.subpath && api('1.45')) ? { VolumeOptions: { ...(m.nocopy ? { NoCopy: true } : {}), ...(m.subpath && api('1.45') ? { Subpath: m.subpath } : {}) } } : {}),
      }
    case 'bind':
      return { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly, ...(m.propagation ? { BindOptions: { Propagation: m.propagation } } : {}) }
    case 'tmpfs':
      return { Type: 'tmpfs', Target: m.target, TmpfsOptions: { ...(m.size !== undefined ? { SizeBytes: m.size } : {}), ...(m.mode !== undefined ? { Mode: m.mode } : {}) } }
    case 'file':
      // Secrets and configs outside Swarm are read-only binds of the host file (as Compose does); uid, gid and mode are not applied.
      return { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: true }
  }
}

/** `gpus: all` or Compose's device reservations → DeviceRequests. */
function deviceRequests(gpus: unknown): unknown[] {
  if (gpus === 'all') return [{ Driver: '', Count: -1, Capabilities: [['gpu']] }]
  const list = Array.isArray(gpus) ? (gpus as Record<string, unknown>[]) : [gpus as Record<string, unknown>]
  return list.map((d) => ({
    Driver: (d.driver as string) ?? '',
    Count: d.count === 'all' ? -1 : ((d.count as number) ?? (d.device_ids ? 0 : -1)),
    DeviceIDs: (d.device_ids as string[]) ?? [],
    Capabilities: [(d.capabilities as string[]) ?? ['gpu']],
    Options: (d.options as Record<string, string>) ?? {},
  }))
}

// ------------------------------------------------------------ inspect → Container

interface Inspect {
  Id: string
  Name: string
  Image: string
  Created: string
  Path: string
  Args: string[]
  State: { Status: string; ExitCode: number; StartedAt: string; FinishedAt: string; Health?: { Status: string } }
  Config: { Labels: Record<string, string> | null; ExposedPorts?: Record<string, object> | null; Tty: boolean }
  Mounts: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[]
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null; Networks: Record<string, { IPAddress: string; GlobalIPv6Address?: string }> | null }
}

/**
 * An anonymous volume is one named by 64 hex digits: Docker names every
 * volume it makes for a container that way, and pier's named volumes are
 * always `<project>_<name>`. (Docker 23+ also labels them
 * com.docker.volume.anonymous; 20.10 does not, so the name is the rule.)
 */
export const isAnonymousVolume = (name: string | undefined) => !!name && /^[0-9a-f]{64}$/.test(name)

const STATES: Record<string, ContainerState> = { created: 'created', running: 'running', paused: 'paused', restarting: 'restarting', exited: 'exited', dead: 'dead', removing: 'exited' }
const unset = (t: string | undefined) => !t || t.startsWith('0001-01-01')
/** Docker's times carry nanoseconds; pier's are JavaScript's ISO strings (milliseconds), as the embedded engine gives them. */
const iso = (t: string) => new Date(t).toISOString()

export function containerOf(c: Inspect): Container {
  const state = STATES[c.State.Status] ?? 'dead'
  const health = c.State.Health?.Status
  const mounts: ContainerMount[] = (c.Mounts ?? []).map((m) => ({
    type: m.Type === 'volume' ? 'volume' : m.Type === 'tmpfs' ? 'tmpfs' : 'bind',
    source: m.Type === 'volume' ? m.Name ?? '' : m.Source,
    target: m.Destination,
    readOnly: !m.RW,
    ...(m.Type === 'volume' && isAnonymousVolume(m.Name) ? { anonymous: true } : {}),
  }))
  const ports: (PortBinding & { hostPort: string })[] = []
  for (const [key, list] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const [port, protocol] = key.split('/')
    for (const b of list ?? []) ports.push({ containerPort: Number(port), protocol: protocol as PortBinding['protocol'], hostPort: b.HostPort, ...(b.HostIp ? { hostIp: b.HostIp } : {}) })
  }
  const addresses: Record<string, string> = {}
  for (const [name, n] of Object.entries(c.NetworkSettings?.Networks ?? {})) if (n.IPAddress) addresses[name] = n.IPAddress
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Image,
    labels: c.Config.Labels ?? {},
    mounts,
    state,
    ...(health === 'starting' || health === 'healthy' || health === 'unhealthy' ? { health } : {}),
    // Restarting too: the run that just ended (a start resets Docker's ExitCode to 0).
    ...(state === 'exited' || state === 'dead' || state === 'restarting' ? { exitCode: c.State.ExitCode } : {}),
    createdAt: iso(c.Created),
    ...(unset(c.State.StartedAt) ? {} : { startedAt: iso(c.State.StartedAt) }),
    ...(unset(c.State.FinishedAt) ? {} : { finishedAt: iso(c.State.FinishedAt) }),
    ports,
    exposedPorts: Object.keys(c.Config.ExposedPorts ?? {}),
    addresses,
    command: [c.Path, ...(c.Args ?? [])],
  }
}

export type { Inspect as ContainerInspect }

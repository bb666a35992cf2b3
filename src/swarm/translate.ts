import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { LABEL } from '../labels.js'
import { canonical } from '../planner/hash.js'
import { replicasOf } from '../planner/names.js'
import type { FileObject, Project, Service } from '../spec/project.js'
import type { FileSpec, NetworkSpec, SecretOrConfig, ServiceSpec, UpdateConfig } from './api.js'
import { SwarmError } from './errors.js'

/**
 * Compose → Swarm: a service becomes a ServiceSpec, a network an overlay
 * network, a secret or config a Swarm secret or config. Pure: the IDs and
 * digests the specs refer to are handed in. Everything carries Compose's
 * project label, so pier finds it again, and a config hash, so an unchanged
 * object is left alone.
 */

/** The label on a task's container carrying its task template's hash. */
export const TASK_HASH = 'io.pier.swarm.task-hash'

const NS = 1_000_000 // nanoseconds in a millisecond: Compose durations are ms, the API's ns.

export function projectLabels(project: Project): Record<string, string> {
  return { [LABEL.project]: project.name }
}

/** `labels` with the hash of everything else in `spec` added, so equal specs carry equal hashes. */
export function withHash<T extends { Labels: Record<string, string> }>(spec: T): T {
  const hash = createHash('sha256').update(canonical(spec)).digest('hex')
  return { ...spec, Labels: { ...spec.Labels, [LABEL.configHash]: hash } }
}

export function networkSpec(project: Project, key: string): NetworkSpec {
  const n = project.networks[key]
  const config = n.ipam?.config?.map((c) => ({ ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.ip_range ? { IPRange: c.ip_range } : {}), ...(c.gateway ? { Gateway: c.gateway } : {}) }))
  return withHash({
    Name: n.name,
    Driver: 'overlay',
    CheckDuplicate: true,
    ...(n.attachable ? { Attachable: true } : {}),
    ...(n.internal ? { Internal: true } : {}),
    ...(n.enable_ipv6 ? { EnableIPv6: true } : {}),
    ...(n.driver_opts ? { Options: n.driver_opts } : {}),
    ...(n.ipam ? { IPAM: { ...(n.ipam.driver ? { Driver: n.ipam.driver } : {}), ...(config ? { Config: config } : {}), ...(n.ipam.options ? { Options: n.ipam.options } : {}) } } : {}),
    Labels: { ...n.labels, ...projectLabels(project), [LABEL.network]: key },
  })
}

/**
 * A secret or config. Swarm keeps them immutable, so the name carries a
 * digest of the content: a changed file is a new object, services move to
 * it in their update, and the old one is removed after.
 */
export function fileSpec(project: Project, kind: SecretOrConfig, key: string): FileSpec {
  const f = project[kind][key]
  const data = fileData(project, kind, key, f)
  const digest = createHash('sha256').update(data).digest('hex').slice(0, 12)
  return { Name: `${f.name}-${digest}`, Labels: { ...f.labels, ...projectLabels(project), [`com.docker.compose.${kind.slice(0, -1)}`]: key }, Data: data.toString('base64') }
}

function fileData(project: Project, kind: SecretOrConfig, key: string, f: FileObject): Buffer {
  if (f.content !== undefined) return Buffer.from(f.content)
  if (f.environment !== undefined) {
    const value = project.environment[f.environment]
    if (value === undefined) throw new SwarmError(`${kind.slice(0, -1)} ${key}: the variable ${f.environment} is not set`)
    return Buffer.from(value)
  }
  if (f.file !== undefined) {
    try {
      return readFileSync(f.file)
    } catch (e) {
      throw new SwarmError(`${kind.slice(0, -1)} ${key}: cannot read ${f.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
  }
  throw new SwarmError(`${kind.slice(0, -1)} ${key}: give file, environment or content`)
}

/** What a ServiceSpec refers to by ID or digest, found or made before the services. */
export interface Refs {
  /** Service → image@digest. */
  images: Record<string, string>
  /** Secret/config key → its Swarm ID and name. */
  secrets: Record<string, { id: string; name: string }>
  configs: Record<string, { id: string; name: string }>
}

export function serviceSpec(project: Project, service: Service, refs: Refs): ServiceSpec {
  const labels = { ...projectLabels(project), [LABEL.service]: service.name }
  const d = service.deploy
  const container: ServiceSpec['TaskTemplate']['ContainerSpec'] = {
    Image: refs.images[service.name] ?? service.image!,
    Labels: { ...service.labels, ...labels },
    ...(service.entrypoint ? { Command: service.entrypoint } : {}),
    ...(service.command ? { Args: service.command } : {}),
    ...(service.hostname ? { Hostname: service.hostname } : {}),
    Env: Object.entries(service.environment).map(([k, v]) => `${k}=${v}`).sort(),
    ...(service.working_dir ? { Dir: service.working_dir } : {}),
    ...(service.user ? { User: service.user } : {}),
    ...(service.group_add?.length ? { Groups: service.group_add } : {}),
    ...(service.tty ? { TTY: true } : {}),
    ...(service.stdin_open ? { OpenStdin: true } : {}),
    ...(service.read_only ? { ReadOnly: true } : {}),
    ...(service.init !== undefined ? { Init: service.init } : {}),
    ...(service.isolation ? { Isolation: service.isolation } : {}),
    ...(service.stop_signal ? { StopSignal: service.stop_signal } : {}),
    ...(service.stop_grace_period !== undefined ? { StopGracePeriod: service.stop_grace_period * NS } : {}),
    ...healthcheck(service),
    ...(service.extra_hosts ? { Hosts: Object.entries(service.extra_hosts).flatMap(([host, ips]) => ips.map((ip) => `${ip} ${host}`)) } : {}),
    ...(service.dns || service.dns_search || service.dns_opt ? { DNSConfig: { ...(service.dns ? { Nameservers: service.dns } : {}), ...(service.dns_search ? { Search: service.dns_search } : {}), ...(service.dns_opt ? { Options: service.dns_opt } : {}) } } : {}),
    ...(service.sysctls ? { Sysctls: service.sysctls } : {}),
    ...(service.cap_add?.length ? { CapabilityAdd: service.cap_add } : {}),
    ...(service.cap_drop?.length ? { CapabilityDrop: service.cap_drop } : {}),
    ...(service.ulimits ? { Ulimits: Object.entries(service.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })) } : {}),
    Mounts: mounts(project, service),
    ...files(service, 'secrets', refs),
    ...files(service, 'configs', refs),
  }
  // The service's own name is an alias on each network, so its peers find it as Compose lets them (`api`, not `project_api`).
  const networks = Object.entries(service.networks ?? {}).map(([key, opts]) => ({ Target: project.networks[key]?.name ?? key, Aliases: [service.name, ...(opts?.aliases ?? [])] }))
  // The task template's own hash rides on every task (its container labels): a task of the current version is
  // recognised by it, and a change of replicas alone does not replace tasks.
  container.Labels = { ...container.Labels, [TASK_HASH]: createHash('sha256').update(canonical({ container, resources: resources(service), restart: restartPolicy(service), placement: placement(service), networks })).digest('hex') }
  return withHash({
    Name: `${project.name}_${service.name}`,
    Labels: { ...d?.labels, ...labels },
    TaskTemplate: {
      ContainerSpec: container,
      ...resources(service),
      RestartPolicy: restartPolicy(service),
      ...placement(service),
      ...(networks.length ? { Networks: networks.sort((a, b) => (a.Target < b.Target ? -1 : 1)) } : {}),
      ...(service.logging?.driver ? { LogDriver: { Name: service.logging.driver, ...(service.logging.options ? { Options: service.logging.options } : {}) } } : {}),
    },
    Mode: d?.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: replicasOf(service) } },
    ...updateConfig(service, 'update_config', 'UpdateConfig'),
    ...updateConfig(service, 'rollback_config', 'RollbackConfig'),
    EndpointSpec: {
      Mode: d?.endpoint_mode === 'dnsrr' ? 'dnsrr' : 'vip',
      Ports: service.ports.map((p) => ({ ...(p.name ? { Name: p.name } : {}), Protocol: p.protocol, TargetPort: p.target, ...(p.published ? { PublishedPort: Number(p.published) } : {}), PublishMode: p.mode === 'host' ? 'host' : 'ingress' })),
    },
  })
}

function healthcheck(service: Service): Record<string, unknown> {
  const h = service.healthcheck
  if (!h) return {}
  if (h.disable) return { Healthcheck: { Test: ['NONE'] } }
  return {
    Healthcheck: {
      ...(h.test ? { Test: h.test } : {}),
      ...(h.interval ? { Interval: h.interval * NS } : {}),
      ...(h.timeout ? { Timeout: h.timeout * NS } : {}),
      ...(h.retries !== undefined ? { Retries: h.retries } : {}),
      ...(h.start_period ? { StartPeriod: h.start_period * NS } : {}),
    },
  }
}

function mounts(project: Project, service: Service): unknown[] {
  return service.volumes.map((m): unknown => {
    if (m.type === 'volume') {
      const v = m.source ? project.volumes[m.source] : undefined
      return {
        Type: 'volume',
        ...(m.source ? { Source: v?.name ?? m.source } : {}),
        Target: m.target,
        ReadOnly: m.read_only ?? false,
        // Swarm creates a named volume on each node that runs a task, with these options.
        VolumeOptions: {
          ...(m.volume.nocopy ? { NoCopy: true } : {}),
          Labels: { ...v?.labels, ...m.volume.labels, ...projectLabels(project), ...(m.source ? { [LABEL.volume]: m.source } : {}) },
          ...(v?.driver || v?.driver_opts ? { DriverConfig: { Name: v.driver ?? 'local', ...(v.driver_opts ? { Options: v.driver_opts } : {}) } } : {}),
        },
      }
    }
    if (m.type === 'bind') return { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.read_only ?? false, ...(m.bind.propagation ? { BindOptions: { Propagation: m.bind.propagation } } : {}) }
    const t = m as Extract<typeof m, { type: 'tmpfs' }>
    return { Type: 'tmpfs', Target: t.target, TmpfsOptions: { ...(t.tmpfs?.size !== undefined ? { SizeBytes: t.tmpfs.size } : {}), ...(t.tmpfs?.mode !== undefined ? { Mode: t.tmpfs.mode } : {}) } }
  }).concat((service.tmpfs ?? []).map((target): unknown => ({ Type: 'tmpfs', Target: target })))
}

/** Secrets under /run/secrets, configs at /<name>, unless a target says otherwise. */
function files(service: Service, kind: SecretOrConfig, refs: Refs): Record<string, unknown> {
  const list = service[kind] ?? []
  if (list.length === 0) return {}
  const idField = kind === 'secrets' ? 'SecretID' : 'ConfigID'
  const nameField = kind === 'secrets' ? 'SecretName' : 'ConfigName'
  return {
    [kind === 'secrets' ? 'Secrets' : 'Configs']: list.map((ref) => {
      const made = refs[kind][ref.source]
      const target = ref.target ?? (kind === 'secrets' ? ref.source : `/${ref.source}`)
      return { File: { Name: target, UID: ref.uid ?? '0', GID: ref.gid ?? '0', Mode: ref.mode ?? 0o444 }, [idField]: made.id, [nameField]: made.name }
    }),
  }
}

function resources(service: Service): Pick<ServiceSpec['TaskTemplate'], 'Resources'> {
  const r = service.deploy?.resources
  const limits = {
    ...(r?.limits?.cpus ?? service.cpus ? { NanoCPUs: Math.round((r?.limits?.cpus ?? service.cpus!) * 1e9) } : {}),
    ...(r?.limits?.memory ?? service.mem_limit ? { MemoryBytes: r?.limits?.memory ?? service.mem_limit! } : {}),
    ...(r?.limits?.pids ?? service.pids_limit ? { Pids: r?.limits?.pids ?? service.pids_limit! } : {}),
  }
  const reservations = {
    ...(r?.reservations?.cpus ? { NanoCPUs: Math.round(r.reservations.cpus * 1e9) } : {}),
    ...(r?.reservations?.memory ?? service.mem_reservation ? { MemoryBytes: r?.reservations?.memory ?? service.mem_reservation! } : {}),
  }
  if (!Object.keys(limits).length && !Object.keys(reservations).length) return {}
  return { Resources: { ...(Object.keys(limits).length ? { Limits: limits } : {}), ...(Object.keys(reservations).length ? { Reservations: reservations } : {}) } }
}

/** deploy.restart_policy, else `restart:` in Swarm's words (no → none, always and unless-stopped → any). */
function restartPolicy(service: Service): NonNullable<ServiceSpec['TaskTemplate']['RestartPolicy']> {
  const rp = service.deploy?.restart_policy
  if (rp) return { ...(rp.condition ? { Condition: rp.condition } : {}), ...(rp.delay !== undefined ? { Delay: rp.delay * NS } : {}), ...(rp.max_attempts !== undefined ? { MaxAttempts: rp.max_attempts } : {}), ...(rp.window !== undefined ? { Window: rp.window * NS } : {}) }
  const [policy, max] = (service.restart ?? 'always').split(':')
  if (policy === 'no') return { Condition: 'none' }
  if (policy === 'on-failure') return { Condition: 'on-failure', ...(max ? { MaxAttempts: Number(max) } : {}) }
  return { Condition: 'any' }
}

interface ComposePlacement {
  constraints?: string[]
  preferences?: { spread: string }[]
  max_replicas_per_node?: number
}

function placement(service: Service): Pick<ServiceSpec['TaskTemplate'], 'Placement'> {
  const p = service.deploy?.placement as ComposePlacement | undefined
  if (!p) return {}
  return {
    Placement: {
      ...(p.constraints?.length ? { Constraints: p.constraints } : {}),
      ...(p.preferences?.length ? { Preferences: p.preferences.map((x) => ({ Spread: { SpreadDescriptor: x.spread } })) } : {}),
      ...(p.max_replicas_per_node ? { MaxReplicas: p.max_replicas_per_node } : {}),
    },
  }
}

/** update_config and rollback_config: the loader gives durations in ms, the API wants ns. */
function updateConfig(service: Service, field: 'update_config' | 'rollback_config', key: 'UpdateConfig' | 'RollbackConfig'): Partial<ServiceSpec> {
  // Swarm reads a missing parallelism as "all tasks at once"; Compose's default is one at a time.
  const c = service.deploy?.[field] ?? {}
  const out: UpdateConfig = {
    Parallelism: c.parallelism ?? 1,
    ...(c.delay !== undefined ? { Delay: c.delay * NS } : {}),
    ...(c.failure_action ? { FailureAction: c.failure_action } : {}),
    ...(c.monitor !== undefined ? { Monitor: c.monitor * NS } : {}),
    ...(c.max_failure_ratio !== undefined ? { MaxFailureRatio: c.max_failure_ratio } : {}),
    ...(c.order ? { Order: c.order } : {}),
  }
  return { [key]: out }
}

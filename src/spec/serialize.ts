import type { FileReference, Project, Service, UpdateConfig } from './project.js'
import { formatDuration } from './units.js'

/**
 * A Project in the shape `docker compose config` prints, so tools that read
 * Compose's output read pier's: durations as Go duration strings, byte sizes
 * as strings of digits, file modes as octal strings, extra_hosts as
 * `host=ip`, keys in Compose's order.
 */
export function projectDocument(project: Project): Record<string, unknown> {
  const services: Record<string, unknown> = {}
  for (const [name, service] of Object.entries(project.services)) services[name] = serviceDocument(service)
  const out: Record<string, unknown> = { name: project.name, services }
  if (Object.keys(project.networks).length) out.networks = project.networks
  if (Object.keys(project.volumes).length) out.volumes = project.volumes
  if (Object.keys(project.secrets).length) out.secrets = project.secrets
  if (Object.keys(project.configs).length) out.configs = project.configs
  if (project.models) out.models = project.models
  Object.assign(out, project.extensions)
  return out
}

const DURATIONS = ['stop_grace_period']
const BYTES = ['mem_limit', 'memswap_limit', 'mem_reservation', 'shm_size']
/** Attributes every normalized service has, printed only when not empty (as Compose omits them). */
const EMPTY_OMITTED = ['environment', 'labels', 'ports', 'expose', 'volumes', 'depends_on']

function serviceDocument(service: Service): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(service)) {
    if (key === 'name' || value === undefined || (EMPTY_OMITTED.includes(key) && isEmpty(value))) continue
    if (DURATIONS.includes(key)) out[key] = formatDuration(value as number)
    else if (BYTES.includes(key)) out[key] = String(value)
    else if (key === 'extra_hosts') out[key] = hostsList(value as Record<string, string[]>)
    else if (key === 'healthcheck') out[key] = healthcheckDocument(value as NonNullable<Service['healthcheck']>)
    else if (key === 'deploy') out[key] = deployDocument(value as NonNullable<Service['deploy']>)
    else if (key === 'build') out[key] = buildDocument(value as NonNullable<Service['build']>)
    else if (key === 'volumes') out[key] = (value as Service['volumes']).map(mountDocument)
    else if (key === 'ulimits') out[key] = ulimitsDocument(value as NonNullable<Service['ulimits']>)
    else if (key === 'depends_on') out[key] = dependsOnDocument(value as Service['depends_on'])
    else if (key === 'secrets' || key === 'configs') out[key] = (value as FileReference[]).map(fileReferenceDocument)
    else out[key] = value
  }
  return out
}

/** A ulimit written as one number prints as one number, as Compose prints it. */
function ulimitsDocument(ulimits: NonNullable<Service['ulimits']>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, limit] of Object.entries(ulimits)) out[name] = (limit as { single?: boolean }).single ? limit.soft : limit
  return out
}

/** Without pier's `implied` marker: Compose prints an added dependency exactly like a written one. */
function dependsOnDocument(dependsOn: Service['depends_on']): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, { implied: _implied, ...dependency }] of Object.entries(dependsOn)) out[name] = dependency
  return out
}

/** A secret's or config's mode prints as Compose prints it: a string of octal digits after a 0 (`"0440"`). */
function fileReferenceDocument(ref: FileReference): FileReference | (Omit<FileReference, 'mode'> & { mode: string }) {
  return ref.mode === undefined ? ref : { ...ref, mode: `0${ref.mode.toString(8)}` }
}

function isEmpty(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : typeof value === 'object' && value !== null && Object.keys(value).length === 0
}

function hostsList(hosts: Record<string, string[]>): string[] {
  return Object.entries(hosts).flatMap(([host, ips]) => ips.map((ip) => `${host}=${ip}`))
}

function healthcheckDocument(h: NonNullable<Service['healthcheck']>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(h)) out[k] = ['interval', 'timeout', 'start_period', 'start_interval'].includes(k) ? formatDuration(v as number) : v
  return out
}

function deployDocument(d: NonNullable<Service['deploy']>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...d }
  if (d.resources) {
    const resources: Record<string, unknown> = {}
    for (const [kind, r] of Object.entries(d.resources)) {
      resources[kind] = r && 'memory' in r && r.memory !== undefined ? { ...r, memory: String(r.memory) } : r
    }
    out.resources = resources
  }
  if (d.restart_policy) {
    const rp: Record<string, unknown> = { ...d.restart_policy }
    if (typeof rp.delay === 'number') rp.delay = formatDuration(rp.delay)
    if (typeof rp.window === 'number') rp.window = formatDuration(rp.window)
    out.restart_policy = rp
  }
  for (const key of ['update_config', 'rollback_config'] as const) if (d[key]) out[key] = updateConfigDocument(d[key])
  return out
}

/** Durations as Go prints them; a zero one is left out, as compose-go (a plain Duration, `omitempty`) leaves it out. */
function updateConfigDocument(u: UpdateConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...u }
  for (const key of ['delay', 'monitor'] as const) {
    if (u[key] === undefined) continue
    if (u[key] === 0) delete out[key]
    else out[key] = formatDuration(u[key])
  }
  return out
}

function buildDocument(b: NonNullable<Service['build']>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...b }
  if (b.shm_size !== undefined) out.shm_size = String(b.shm_size)
  if (b.extra_hosts) out.extra_hosts = hostsList(b.extra_hosts)
  return out
}

function mountDocument(m: Service['volumes'][number]): Record<string, unknown> {
  if (m.type !== 'tmpfs' || m.tmpfs.size === undefined) return m
  return { ...m, tmpfs: { ...m.tmpfs, size: String(m.tmpfs.size) } }
}

/** YAML text; the yaml package is loaded only when something is printed as YAML. */
export async function toYaml(doc: unknown): Promise<string> {
  const { stringify } = await import('yaml')
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false, nullStr: 'null' })
}

export function toJson(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n'
}

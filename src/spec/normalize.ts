import type { Cast } from './cast.js'
import { isPlainDict, type Dict } from './data.js'
import { resolvePath } from './paths.js'
import type { FileObject, ImpliedBy, Network, Project, Service, Volume } from './project.js'
import { normalizeService } from './service.js'
import { childPath, type FieldPath } from './source.js'

export interface NormalizeOptions {
  name: string
  workingDir: string
  configFiles: string[]
  envFiles: string[]
  environment: Record<string, string>
  active: Set<string>
  profiles: string[]
}

/**
 * The validated, merged document → a Project in long form: every service
 * normalized, every resource named as Compose names it (`<project>_<key>`
 * unless `name:` or `external`), and the `default` network declared when a
 * service uses it.
 */
export function normalizeProject(doc: Dict, opts: NormalizeOptions, cast: Cast): Project {
  const ctx = { cast, workingDir: opts.workingDir, environment: opts.environment }
  const services: Record<string, Service> = {}
  const disabledServices: Record<string, Service> = {}
  for (const [name, raw] of Object.entries((doc.services as Dict | undefined) ?? {}).sort(byKey)) {
    const rawService = (raw ?? {}) as Dict
    if (opts.active.has(name)) {
      services[name] = normalizeService(name, rawService, ctx)
    } else {
      // An inactive service is not resolved (its env files may not even exist); its name and profiles are enough.
      disabledServices[name] = { name, profiles: cast.list(rawService.profiles) ?? [] } as Service
    }
  }

  const networks = section(doc.networks, (key, raw) => network(key, raw, opts.name, cast))
  const usesDefault = Object.values(services).some((s) => s.networks && 'default' in s.networks)
  if (usesDefault && !networks.default) networks.default = { name: `${opts.name}_default` }

  const extensions: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(doc)) if (key.startsWith('x-')) extensions[key] = value

  return {
    name: opts.name,
    workingDir: opts.workingDir,
    configFiles: opts.configFiles,
    envFiles: opts.envFiles,
    environment: opts.environment,
    profiles: opts.profiles,
    services,
    disabledServices,
    networks: sortObject(networks),
    volumes: section(doc.volumes, (key, raw) => resource<Volume>('volumes', key, raw, opts.name, cast)),
    secrets: section(doc.secrets, (key, raw) => fileObject('secrets', key, raw, opts, cast)),
    configs: section(doc.configs, (key, raw) => fileObject('configs', key, raw, opts, cast)),
    ...(isPlainDict(doc.models) ? { models: doc.models } : {}),
    extensions,
  }
}

/**
 * What Compose adds to depends_on by itself (compose-go's Normalize): a
 * service used through `links`, `network_mode`/`ipc`/`pid`/`uts`/`cgroup:
 * service:` (restarted with it) or `volumes_from` (not restarted) is a
 * dependency, started first. An explicit entry is kept as written; an added
 * one says which attribute `implied` it, so consumers can tell it from one
 * the user wrote (compose-go cannot; its output has no trace of it). Run after
 * the references are checked, so a missing target is reported as the
 * attribute that names it.
 */
export function addImplicitDependencies(project: Project): void {
  for (const service of Object.values(project.services)) {
    const add = (name: string, restart: boolean, implied: ImpliedBy) => {
      if (name in service.depends_on) return
      service.depends_on[name] = { condition: 'service_started', restart, required: true, implied }
    }
    for (const link of service.links ?? []) add(link.split(':')[0], true, 'links')
    for (const attr of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup'] as const) {
      const value = (service as unknown as Record<string, unknown>)[attr]
      if (typeof value === 'string' && value.startsWith('service:')) add(value.slice('service:'.length), true, attr)
    }
    for (const from of service.volumes_from ?? []) if (!from.startsWith('container:')) add(from.split(':')[0], false, 'volumes_from')
  }
}

function section<T>(value: unknown, read: (key: string, raw: Dict) => T): Record<string, T> {
  const out: Record<string, T> = {}
  if (!isPlainDict(value)) return out
  for (const [key, raw] of Object.entries(value).sort(byKey)) out[key] = read(key, isPlainDict(raw) ? raw : {})
  return out
}

function fileObject(kind: 'secrets' | 'configs', key: string, raw: Dict, opts: NormalizeOptions, cast: Cast): FileObject {
  return resource<FileObject>(kind, key, raw, opts.name, cast, { file: (v) => resolvePath(opts.workingDir, String(v)) })
}

/** `external: true`, or the older `external: {name: x}`, means: exists already, never created or removed by pier. */
function external(raw: Dict, path: FieldPath, cast: Cast): { external: boolean; name?: string } {
  if (isPlainDict(raw.external)) return { external: true, name: raw.external.name === undefined ? undefined : String(raw.external.name) }
  return { external: cast.bool(raw.external, childPath(path, 'external')) ?? false }
}

/**
 * A top-level network, volume, secret or config: its name as Compose gives
 * it, `external` in one form, labels and driver options as string maps, and
 * the attributes particular to its kind read by `readers`.
 */
function resource<T extends object>(
  section: string,
  key: string,
  raw: Dict,
  project: string,
  cast: Cast,
  readers: { [K in keyof T]?: (v: unknown, p: FieldPath) => T[K] | undefined } = {},
): T & { name: string; external?: boolean } {
  const at = `${section}.${key}`
  const ext = external(raw, at, cast)
  const out = cast.fields<T>(raw, at, {
    external: () => undefined,
    name: () => undefined,
    driver_opts: (v: unknown) => cast.dict(v),
    labels: (v: unknown) => cast.dict(v),
    ...readers,
  } as { [K in keyof T]?: (v: unknown, p: FieldPath) => T[K] | undefined })
  return sortObject({ ...out, name: resourceName(key, raw, ext, project), ...(ext.external ? { external: true } : {}) })
}

function network(key: string, raw: Dict, project: string, cast: Cast): Network {
  return resource<Network>('networks', key, raw, project, cast, {
    internal: (v, p) => cast.bool(v, p),
    attachable: (v, p) => cast.bool(v, p),
    enable_ipv4: (v, p) => cast.bool(v, p),
    enable_ipv6: (v, p) => cast.bool(v, p),
    ipam: (v) => (isPlainDict(v) ? { ...v, ...(v.options ? { options: cast.dict(v.options) } : {}) } : undefined) as Network['ipam'],
  })
}

/** `name:` wins; an external resource is otherwise called by its key; the rest get the project prefix. */
function resourceName(key: string, raw: Dict, ext: { external: boolean; name?: string }, project: string): string {
  if (ext.name !== undefined) return ext.name
  if (typeof raw.name === 'string') return raw.name
  return ext.external ? key : `${project}_${key}`
}

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0)

function sortObject<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(byKey)) as T
}

import type { Cast } from './cast.js'
import { isPlainDict, type Dict } from './data.js'
import { resolvePath } from './paths.js'
import type { FileObject, Network, Project, Service, Volume } from './project.js'
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

  const networks = section(doc.networks, (key, raw, path) => network(key, raw, opts.name, path, cast))
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
    volumes: section(doc.volumes, (key, raw, path) => volume(key, raw, opts.name, path, cast)),
    secrets: section(doc.secrets, (key, raw, path) => fileObject(key, raw, opts, path, cast)),
    configs: section(doc.configs, (key, raw, path) => fileObject(key, raw, opts, path, cast)),
    ...(isPlainDict(doc.models) ? { models: doc.models } : {}),
    extensions,
  }
}

function section<T>(value: unknown, read: (key: string, raw: Dict, path: FieldPath) => T): Record<string, T> {
  const out: Record<string, T> = {}
  if (!isPlainDict(value)) return out
  for (const [key, raw] of Object.entries(value).sort(byKey)) out[key] = read(key, isPlainDict(raw) ? raw : {}, key)
  return out
}

/** `external: true`, or the older `external: {name: x}`, means: exists already, never created or removed by pier. */
function external(raw: Dict, path: FieldPath, cast: Cast): { external: boolean; name?: string } {
  if (isPlainDict(raw.external)) return { external: true, name: raw.external.name === undefined ? undefined : String(raw.external.name) }
  return { external: cast.bool(raw.external, childPath(path, 'external')) ?? false }
}

function network(key: string, raw: Dict, project: string, path: FieldPath, cast: Cast): Network {
  const at = `networks.${path}`
  const ext = external(raw, at, cast)
  const out = cast.fields<Network>(raw, at, {
    external: () => undefined,
    name: () => undefined,
    driver_opts: (v) => cast.dict(v),
    labels: (v) => cast.dict(v),
    internal: (v, p) => cast.bool(v, p),
    attachable: (v, p) => cast.bool(v, p),
    enable_ipv4: (v, p) => cast.bool(v, p),
    enable_ipv6: (v, p) => cast.bool(v, p),
    ipam: (v) => (isPlainDict(v) ? { ...v, ...(v.options ? { options: cast.dict(v.options) } : {}) } : undefined) as Network['ipam'],
  })
  return sortObject({ ...out, name: resourceName(key, raw, ext, project), ...(ext.external ? { external: true } : {}) })
}

function volume(key: string, raw: Dict, project: string, path: FieldPath, cast: Cast): Volume {
  const at = `volumes.${path}`
  const ext = external(raw, at, cast)
  const out = cast.fields<Volume>(raw, at, {
    external: () => undefined,
    name: () => undefined,
    driver_opts: (v) => cast.dict(v),
    labels: (v) => cast.dict(v),
  })
  return sortObject({ ...out, name: resourceName(key, raw, ext, project), ...(ext.external ? { external: true } : {}) })
}

function fileObject(key: string, raw: Dict, opts: NormalizeOptions, path: FieldPath, cast: Cast): FileObject {
  const ext = external(raw, path, cast)
  const out = cast.fields<FileObject>(raw, path, {
    external: () => undefined,
    name: () => undefined,
    file: (v) => resolvePath(opts.workingDir, String(v)),
    labels: (v) => cast.dict(v),
    driver_opts: (v) => cast.dict(v),
  })
  return sortObject({ ...out, name: resourceName(key, raw, ext, opts.name), ...(ext.external ? { external: true } : {}) })
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

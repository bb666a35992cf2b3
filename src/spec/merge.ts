import { isPlainDict, Override, Reset, type Dict } from './data.js'

/**
 * Merging Compose documents: `-f a.yaml -f b.yaml`, override files, and
 * `extends` (the base service first, the extending one over it).
 *
 * Mappings merge recursively and scalars are replaced. Sequences append,
 * except where Compose merges them by a key (ports, volumes, environment, …)
 * or replaces them whole (command, entrypoint, healthcheck.test). `!reset`
 * drops the earlier value, `!override` replaces it without merging.
 */
export function mergeDocuments(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base }
  for (const [key, value] of Object.entries(over)) {
    if (key === 'services' && isPlainDict(out.services) && isPlainDict(value)) {
      const services: Dict = { ...out.services }
      for (const [name, service] of Object.entries(value)) {
        services[name] = name in services ? mergeService(services[name], service) : service
      }
      out.services = services
    } else if ((key === 'networks' || key === 'volumes') && isPlainDict(out[key]) && isPlainDict(value)) {
      const resources: Dict = { ...(out[key] as Dict) }
      for (const [name, resource] of Object.entries(value)) {
        resources[name] = name in resources ? mergeResource(resources[name], resource) : resource
      }
      out[key] = resources
    } else {
      out[key] = key in out ? mergeValue(out[key], value) : value
    }
  }
  return out
}

/** Merges one service definition over another (also what `extends` does). */
export function mergeService(base: unknown, over: unknown): unknown {
  if (over instanceof Reset || over instanceof Override) return mergeValue(base, over)
  if (!isPlainDict(base) || !isPlainDict(over)) return over ?? base
  const out: Dict = { ...base }
  for (const [key, value] of Object.entries(over)) {
    if (value instanceof Reset) {
      delete out[key]
      continue
    }
    if (value instanceof Override || !(key in out)) {
      out[key] = value
      continue
    }
    const rule = SERVICE_RULES[key]
    out[key] = rule ? rule(out[key], value) : mergeValue(out[key], value)
  }
  return out
}

/** The default rule: maps merge recursively, lists append, scalars are replaced. */
export function mergeValue(base: unknown, over: unknown): unknown {
  if (over instanceof Reset) return over
  if (over instanceof Override) return over
  if (isPlainDict(base) && isPlainDict(over)) {
    const out: Dict = { ...base }
    for (const [key, value] of Object.entries(over)) {
      if (value instanceof Reset) delete out[key]
      else out[key] = key in out ? mergeValue(out[key], value) : value
    }
    return out
  }
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over]
  return over
}

/**
 * Removes the `!reset` and `!override` markers left after the last merge.
 * Subtrees without markers are returned as they are, not copied.
 */
export function stripMarkers(value: unknown): unknown {
  if (value instanceof Override) return stripMarkers(value.value)
  if (Array.isArray(value)) {
    let changed = false
    const out: unknown[] = []
    for (const v of value) {
      if (v instanceof Reset) {
        changed = true
        continue
      }
      const stripped = stripMarkers(v)
      changed ||= stripped !== v
      out.push(stripped)
    }
    return changed ? out : value
  }
  if (!isPlainDict(value)) return value
  let out: Dict | undefined
  for (const [k, v] of Object.entries(value)) {
    if (v instanceof Reset) {
      out ??= { ...value }
      delete out[k]
      continue
    }
    const stripped = stripMarkers(v)
    if (stripped !== v) (out ??= { ...value })[k] = stripped
  }
  return out ?? value
}

/**
 * A top-level network or volume: labels merge by key whichever syntax each
 * side uses, and `ipam.config` entries merge by subnet (compose-go's
 * mergeIPAMConfig): an entry for a subnet already there is merged into it.
 */
function mergeResource(base: unknown, over: unknown): unknown {
  const merged = mergeValue(base, over)
  if (!isPlainDict(base) || !isPlainDict(over) || !isPlainDict(merged)) return merged
  const out: Dict = { ...merged }
  if ('labels' in base && 'labels' in over && !(over.labels instanceof Reset) && !(over.labels instanceof Override)) out.labels = byName('=')(base.labels, over.labels)
  const baseIpam = isPlainDict(base.ipam) ? base.ipam : undefined
  const overIpam = isPlainDict(over.ipam) ? over.ipam : undefined
  if (baseIpam && overIpam && Array.isArray(baseIpam.config) && Array.isArray(overIpam.config)) {
    out.ipam = { ...(out.ipam as Dict), config: bySubnet(baseIpam.config, overIpam.config) }
  }
  return out
}

function bySubnet(base: unknown[], over: unknown[]): unknown[] {
  const out = [...base]
  for (const entry of over) {
    const subnet = isPlainDict(entry) ? entry.subnet : undefined
    const at = subnet === undefined ? -1 : out.findIndex((e) => isPlainDict(e) && e.subnet === subnet)
    if (at < 0) out.push(entry)
    else out[at] = mergeValue(out[at], entry)
  }
  return out
}

type Rule = (base: unknown, over: unknown) => unknown

const replace: Rule = (_base, over) => over

/** Appends the values not already present (expose, dns, cap_add, …). */
const unique: Rule = (base, over) => {
  const seen = new Set<string>()
  const out: unknown[] = []
  for (const item of [...toList(base), ...toList(over)]) {
    const key = JSON.stringify(item)
    if (!seen.has(key)) {
      seen.add(key)
      out.push(item)
    }
  }
  return out
}

/** Merges list items by a key: a later item with the same key takes the earlier one's place. */
function byKey(keyOf: (item: unknown) => string): Rule {
  return (base, over) => lastByKey([...toList(base), ...toList(over)], keyOf)
}

/**
 * One item per key, in first-seen order, each holding the last item with that
 * key: how Compose merges keyed lists, across files and inside one.
 */
export function lastByKey<T>(items: T[], keyOf: (item: T, index: number) => string): T[] {
  const out: T[] = []
  const index = new Map<string, number>()
  for (const [i, item] of items.entries()) {
    const key = keyOf(item, i)
    const at = index.get(key)
    if (at === undefined) {
      index.set(key, out.length)
      out.push(item)
    } else {
      out[at] = item
    }
  }
  return out
}

/** Merges `KEY=VAL` lists and maps by key, whichever syntax each side uses; the result is a map. */
function byName(separators: string): Rule {
  return (base, over) => ({ ...toMap(base, separators), ...toMap(over, separators) })
}

/** A per-entry deep merge for list-or-map attributes keyed by name (networks, depends_on). */
function entries(fromList: (name: string) => unknown): Rule {
  return (base, over) => {
    const out: Dict = {}
    const asMap = (v: unknown): Dict => (Array.isArray(v) ? Object.fromEntries(v.map((n) => [String(n), fromList(String(n))])) : isPlainDict(v) ? v : {})
    for (const [k, v] of Object.entries(asMap(base))) out[k] = v
    for (const [k, v] of Object.entries(asMap(over))) {
      out[k] = k in out && isPlainDict(out[k]) && isPlainDict(v) ? mergeValue(out[k], v) : v ?? out[k] ?? null
    }
    return out
  }
}

const SERVICE_RULES: Record<string, Rule> = {
  command: replace,
  entrypoint: replace,
  extends: replace,
  healthcheck: (base, over) => mergeHealthcheck(base, over),
  logging: (base, over) => mergeLogging(base, over),
  build: (base, over) => mergeBuild(base, over),
  ports: byKey(portKey),
  volumes: byKey(volumeKey),
  secrets: byKey(mountTargetKey('/run/secrets')),
  configs: byKey(mountTargetKey('')),
  devices: byKey(deviceKey),
  env_file: byKey((item) => (isPlainDict(item) ? String(item.path) : String(item))),
  environment: byName('='),
  labels: byName('='),
  annotations: byName('='),
  sysctls: byName('='),
  extra_hosts: (base, over) => hostsSequence(base, over),
  ulimits: (base, over) => ({ ...(isPlainDict(base) ? base : {}), ...(isPlainDict(over) ? over : {}) }),
  networks: entries(() => null),
  depends_on: entries(() => ({ condition: 'service_started' })),
  expose: unique,
  dns: unique,
  dns_search: unique,
  dns_opt: unique,
  tmpfs: unique,
  cap_add: unique,
  cap_drop: unique,
  security_opt: unique,
  links: unique,
  external_links: unique,
  volumes_from: unique,
  group_add: unique,
  profiles: unique,
  label_file: unique,
  device_cgroup_rules: unique,
}

function mergeHealthcheck(base: unknown, over: unknown): unknown {
  if (!isPlainDict(base) || !isPlainDict(over)) return over
  const merged = mergeValue(base, over) as Dict
  if ('test' in over && !(over.test instanceof Reset)) merged.test = over.test
  return merged
}

/** A different logging driver starts afresh; the same driver merges its options. */
function mergeLogging(base: unknown, over: unknown): unknown {
  if (!isPlainDict(base) || !isPlainDict(over)) return over
  if (over.driver !== undefined && base.driver !== undefined && over.driver !== base.driver) return over
  return mergeValue(base, over)
}

function mergeBuild(base: unknown, over: unknown): unknown {
  const asDict = (v: unknown): Dict => (typeof v === 'string' ? { context: v } : isPlainDict(v) ? v : {})
  const b = asDict(base)
  const o = asDict(over)
  const out = mergeValue(b, o) as Dict
  for (const key of ['args', 'labels', 'ssh', 'additional_contexts'] as const) {
    if (key in b && key in o && !(o[key] instanceof Reset) && !(o[key] instanceof Override)) out[key] = byName('=')(b[key], o[key])
  }
  if ('extra_hosts' in b && 'extra_hosts' in o) out.extra_hosts = hostsSequence(b.extra_hosts, o.extra_hosts)
  for (const key of ['cache_from', 'cache_to', 'tags', 'platforms', 'entitlements'] as const) {
    if (key in b && key in o) out[key] = unique(b[key], o[key])
  }
  return out
}

function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (value === null || value === undefined) return []
  return [value]
}

/** `["A=1", "B"]` or `{A: 1, B: null}` → `{A: 1, B: null}`; the first separator found splits. */
function toMap(value: unknown, separators = '='): Dict {
  if (isPlainDict(value)) return value
  const out: Dict = {}
  for (const item of toList(value)) {
    const text = String(item)
    let cut = -1
    for (const sep of separators) {
      cut = text.indexOf(sep)
      if (cut >= 0) break
    }
    if (cut < 0) out[text] = null
    else out[text.slice(0, cut)] = text.slice(cut + 1)
  }
  return out
}

/**
 * extra_hosts as a list of `host=ip` (a mapping's addresses one by one), the
 * later file's entries appended unless already there (compose-go's
 * mergeExtraHosts): a host keeps every address it is given.
 */
function hostsSequence(base: unknown, over: unknown): string[] {
  const asList = (value: unknown): string[] => {
    if (!isPlainDict(value)) return toList(value).map(String)
    return Object.entries(value).flatMap(([host, ips]) => (Array.isArray(ips) ? ips : [ips]).map((ip) => `${host}=${ip}`)).sort()
  }
  const out = asList(base)
  const seen = new Set(out)
  for (const entry of asList(over)) if (!seen.has(entry)) out.push(entry)
  return out
}

/** A port's identity: host IP, published port, target and protocol, whichever syntax it is written in. */
export function portKey(item: unknown): string {
  if (isPlainDict(item)) {
    return [item.host_ip ?? '', item.published ?? '', item.target ?? '', item.protocol ?? 'tcp'].join('|')
  }
  let text = String(item)
  let protocol = 'tcp'
  const slash = text.lastIndexOf('/')
  if (slash >= 0) {
    protocol = text.slice(slash + 1)
    text = text.slice(0, slash)
  }
  const colon = text.lastIndexOf(':')
  const target = text.slice(colon + 1)
  const front = colon >= 0 ? text.slice(0, colon) : ''
  const split = front.lastIndexOf(':')
  const published = front.slice(split + 1)
  const hostIp = split >= 0 ? front.slice(0, split).replace(/^\[|\]$/g, '') : ''
  return [hostIp, published, target, protocol].join('|')
}

/** The container path of a short volume or device entry: the second field, or the only one. */
export function volumeTarget(text: string): string {
  const parts = text.split(':')
  return parts.length === 1 ? parts[0] : parts[1]
}

function volumeKey(item: unknown): string {
  return isPlainDict(item) ? String(item.target ?? '') : volumeTarget(String(item))
}

/** Secrets land in /run/secrets/<source> unless a target is given, configs in /<source> (compose-go's mountIndexer). */
export function mountTargetKey(defaultDir: string): (item: unknown) => string {
  return (item) => {
    if (!isPlainDict(item)) return `${defaultDir}/${String(item)}`
    return item.target !== undefined ? String(item.target) : `${defaultDir}/${String(item.source)}`
  }
}

function deviceKey(item: unknown): string {
  return isPlainDict(item) ? String(item.target ?? item.source ?? '') : volumeTarget(String(item))
}

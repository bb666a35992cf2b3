import { isPlainDict, type Dict } from './data.js'
import { lastByKey, mountTargetKey, portKey, volumeTarget } from './merge.js'
import { cleanPath } from './paths.js'

/**
 * Compose keeps one entry per key in the lists below: a later entry with the
 * same key takes the earlier one's place, whether both came from one file or
 * from several (compose-go's EnforceUnicity, run after every merge). So a
 * repeated port or alias is merged as Compose merges it, not refused by the
 * schema's uniqueItems. Only lists are touched; the mapping forms are unique
 * by construction. Subtrees without duplicates are returned as they are.
 */
export function enforceUnicity(doc: Dict): Dict {
  let out = doc
  if (isPlainDict(doc.services)) {
    let services: Dict | undefined
    for (const [name, service] of Object.entries(doc.services)) {
      const unique = uniqueService(service)
      if (unique !== service) (services ??= { ...doc.services })[name] = unique
    }
    if (services) out = { ...out, services }
  }
  if (isPlainDict(doc.networks)) {
    let networks: Dict | undefined
    for (const [name, network] of Object.entries(doc.networks)) {
      if (!isPlainDict(network)) continue
      let next = applyKeys(network, { labels: byVariable })
      if (isPlainDict(next.ipam)) {
        const ipam = applyKeys(next.ipam, { options: byVariable })
        if (ipam !== next.ipam) next = { ...next, ipam }
      }
      if (next !== network) (networks ??= { ...doc.networks })[name] = next
    }
    if (networks) out = { ...out, networks }
  }
  return out
}

/**
 * The key of a list entry. `coarse`, when given, is a cheaper key that two
 * entries share whenever their keys are equal: a list whose coarse keys are
 * all different has no duplicate, and the full keys are never computed.
 */
type Indexer = ((item: unknown) => string) & { coarse?: (item: unknown) => string }

/** A port's container side as written (`80` of `127.0.0.1:8080:80/tcp`). */
function containerPort(item: unknown): string {
  if (isPlainDict(item)) return String(item.target)
  const text = String(item)
  const slash = text.indexOf('/')
  const end = slash < 0 ? text.length : slash
  return text.slice(text.lastIndexOf(':', end) + 1, end)
}

/** `KEY=VALUE` and plain strings: the part before the first `=`. */
const byVariable: Indexer = (item) => {
  const text = String(item)
  const eq = text.indexOf('=')
  return eq < 0 ? text : text.slice(0, eq)
}
const byValue: Indexer = (item) => String(item)

const SERVICE_KEYS: Record<string, Indexer> = {
  annotations: byVariable,
  cap_add: byVariable,
  cap_drop: byVariable,
  configs: mountTargetKey(''),
  devices: (item) => (isPlainDict(item) ? String(item.target ?? item.source) : volumeTarget(String(item))),
  dns: byVariable,
  dns_opt: byVariable,
  dns_search: byVariable,
  environment: byVariable,
  env_file: (item) => (isPlainDict(item) ? String(item.path) : String(item)),
  expose: byValue,
  labels: byVariable,
  links: byVariable,
  ports: Object.assign((item: unknown) => portKey(item).replace(/^0\.0\.0\.0\|/, '|'), { coarse: containerPort }),
  profiles: byVariable,
  secrets: mountTargetKey('/run/secrets'),
  sysctls: byVariable,
  tmpfs: byVariable,
  // By the target as Compose cleans it: `/data/` and `/data` are one mount point.
  volumes: (item) => cleanPath(isPlainDict(item) ? String(item.target ?? '') : volumeTarget(String(item))),
}

const BUILD_KEYS: Record<string, Indexer> = { args: byVariable, additional_contexts: byVariable, tags: byVariable, labels: byVariable }

function uniqueService(service: unknown): unknown {
  if (!isPlainDict(service)) return service
  let out = applyKeys(service, SERVICE_KEYS)
  if (isPlainDict(out.build)) {
    const build = applyKeys(out.build, BUILD_KEYS)
    if (build !== out.build) out = { ...out, build }
  }
  if (isPlainDict(out.deploy)) {
    const deploy = applyKeys(out.deploy, { labels: byVariable })
    if (deploy !== out.deploy) out = { ...out, deploy }
  }
  if (isPlainDict(out.networks)) {
    let networks: Dict | undefined
    for (const [name, network] of Object.entries(out.networks)) {
      if (!isPlainDict(network)) continue
      const next = applyKeys(network, { aliases: byValue, link_local_ips: byValue })
      if (next !== network) (networks ??= { ...(out.networks as Dict) })[name] = next
    }
    if (networks) out = { ...out, networks }
  }
  return out
}

function applyKeys(value: Dict, keys: Record<string, Indexer>): Dict {
  let out: Dict | undefined
  // Walks the value's own keys (a handful), not the table's (twenty).
  for (const key in value) {
    const indexer = keys[key]
    const list = value[key]
    if (indexer === undefined || !Array.isArray(list) || list.length < 2) continue
    const unique = dedupe(list, indexer)
    if (unique !== list) (out ??= { ...value })[key] = unique
  }
  return out ?? value
}

/** A later entry replaces an earlier one with the same key, in the earlier one's place. */
function dedupe(list: unknown[], indexer: Indexer): unknown[] {
  if (indexer.coarse && !hasDuplicate(list.map(indexer.coarse))) return list
  const keys = list.map(indexer)
  if (!hasDuplicate(keys)) return list
  return lastByKey(list, (_item, i) => keys[i])
}

/** Most lists are short and have no duplicate: compare pairwise, without allocating a Set. */
export function hasDuplicate(keys: string[]): boolean {
  if (keys.length > 16) return new Set(keys).size !== keys.length
  for (let i = 1; i < keys.length; i++) for (let j = 0; j < i; j++) if (keys[i] === keys[j]) return true
  return false
}

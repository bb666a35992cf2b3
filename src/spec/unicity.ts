import { posix } from 'node:path'
import { isPlainDict, type Dict } from './data.js'
import { mountTargetKey, portKey, volumeTarget } from './merge.js'

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

type Indexer = (item: unknown) => string

/** `KEY=VALUE` and plain strings: the part before the first `=`. */
const byVariable: Indexer = (item) => String(item).split('=')[0]
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
  ports: (item) => portKey(item).replace(/^0\.0\.0\.0\|/, '|'),
  profiles: byVariable,
  secrets: mountTargetKey('/run/secrets'),
  sysctls: byVariable,
  tmpfs: byVariable,
  // By the target as Compose cleans it: `/data/` and `/data` are one mount point.
  volumes: (item) => posix.normalize((isPlainDict(item) ? String(item.target ?? '') : volumeTarget(String(item))) || '.').replace(/(.)\/$/, '$1'),
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
  for (const [key, indexer] of Object.entries(keys)) {
    const list = value[key]
    if (!Array.isArray(list) || list.length < 2) continue
    const unique = dedupe(list, indexer)
    if (unique !== list) (out ??= { ...value })[key] = unique
  }
  return out ?? value
}

/** A later entry replaces an earlier one with the same key, in the earlier one's place. */
function dedupe(list: unknown[], indexer: Indexer): unknown[] {
  const index = new Map<string, number>()
  let out: unknown[] | undefined
  for (const [i, item] of list.entries()) {
    const key = indexer(item)
    const at = index.get(key)
    if (at === undefined) {
      index.set(key, out ? out.length : i)
      out?.push(item)
    } else {
      out ??= list.slice(0, i)
      out[at] = item
    }
  }
  return out ?? list
}

import type { Cast } from './cast.js'
import { isIP } from './addresses.js'
import { isPlainDict } from './data.js'
import { lastByKey } from './merge.js'
import { hasDuplicate } from './unicity.js'
import type { Port } from './project.js'
import { childPath, type FieldPath } from './source.js'

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const

/**
 * `ports` entries in their long form. The short syntax is
 * `[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]`, with an
 * IPv6 host IP in brackets. A container range becomes one entry per port
 * (paired with the host range when one is given); a single container port
 * with a host range keeps the range as `published`, for the engine to pick
 * a free port from.
 */
export function normalizePorts(value: unknown, path: FieldPath, cast: Cast): Port[] {
  if (!Array.isArray(value)) return []
  const ports = value.flatMap((item, i) => {
    const at = childPath(path, i)
    if (isPlainDict(item)) return [longPort(item, at, cast)]
    return shortPort(String(item), at, cast)
  })
  return ports.length > 1 ? uniquePorts(ports) : ports
}

/**
 * Expanding ranges can reveal duplicates (`8000-8001:80-81` and `8000:80`):
 * one entry per address, the later in the earlier one's place, as compose-go
 * enforces unicity again after its canonical transform.
 */
function uniquePorts(ports: Port[]): Port[] {
  // Most lists have no duplicate: compare targets first, without building keys.
  if (!hasDuplicate(ports.map((port) => String(port.target)))) return ports
  return lastByKey(ports, (port) => `${port.host_ip ?? '0.0.0.0'}|${port.published ?? ''}|${port.target}|${port.protocol}`)
}

function longPort(item: Record<string, unknown>, path: FieldPath, cast: Cast): Port {
  const target = cast.int(item.target, childPath(path, 'target'))
  if (target === undefined) return cast.fail(path, 'a port needs a target (the container port)')
  checkPort(target, childPath(path, 'target'), cast)
  const port: Port = { mode: item.mode === undefined ? 'ingress' : String(item.mode), target, protocol: protocol(item.protocol ?? 'tcp', childPath(path, 'protocol'), cast) }
  if (item.name !== undefined) port.name = String(item.name)
  if (item.host_ip !== undefined && item.host_ip !== '') port.host_ip = checkHostIp(String(item.host_ip), childPath(path, 'host_ip'), cast)
  if (item.published !== undefined && item.published !== null && item.published !== '') {
    const published = String(item.published)
    parseRange(published, childPath(path, 'published'), cast)
    port.published = published
  }
  if (item.app_protocol !== undefined) port.app_protocol = String(item.app_protocol)
  return reorder(port)
}

function shortPort(text: string, path: FieldPath, cast: Cast): Port[] {
  let rest = text.trim()
  let proto: Port['protocol'] = 'tcp'
  const slash = rest.lastIndexOf('/')
  if (slash >= 0) {
    proto = protocol(rest.slice(slash + 1), path, cast)
    rest = rest.slice(0, slash)
  }
  let hostIp: string | undefined
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0 || rest[close + 1] !== ':') return cast.fail(path, `invalid port "${text}": an IPv6 host address goes in brackets, like [::1]:8080:80`)
    hostIp = rest.slice(1, close)
    rest = rest.slice(close + 2)
  }
  const parts = rest.split(':')
  if (hostIp === undefined && parts.length === 3) hostIp = parts.shift()
  if (parts.length > 2 || (hostIp !== undefined && parts.length !== 2)) {
    return cast.fail(path, `invalid port "${text}": expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`)
  }
  const containerText = parts[parts.length - 1]
  const hostText = parts.length === 2 ? parts[0] : ''
  const container = parseRange(containerText, path, cast, text)
  const host = hostText === '' ? undefined : parseRange(hostText, path, cast, text)

  const count = container[1] - container[0] + 1
  if (host && count > 1 && host[1] - host[0] + 1 !== count) {
    return cast.fail(path, `invalid port "${text}": the host range and the container range must have the same length`)
  }
  const out: Port[] = []
  for (let i = 0; i < count; i++) {
    const port: Port = { mode: 'ingress', target: container[0] + i, protocol: proto }
    if (hostIp) port.host_ip = checkHostIp(hostIp, path, cast, text)
    if (host) port.published = count > 1 ? String(host[0] + i) : host[0] === host[1] ? String(host[0]) : `${host[0]}-${host[1]}`
    out.push(reorder(port))
  }
  return out
}

/** A host IP is an address literal; a name is never looked up (compose-go's checkIPAddress). */
function checkHostIp(ip: string, path: FieldPath, cast: Cast, whole?: string): string {
  if (!isIP(ip)) return cast.fail(path, `invalid host IP ${JSON.stringify(ip)}${whole ? ` in port "${whole}"` : ''}: use an IPv4 or IPv6 address`)
  return ip
}

function parseRange(text: string, path: FieldPath, cast: Cast, whole = text): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim())
  if (!m) return cast.fail(path, `invalid port "${whole}": "${text}" is not a port number or range`)
  const start = Number(m[1])
  const end = m[2] === undefined ? start : Number(m[2])
  checkPort(start, path, cast, whole)
  checkPort(end, path, cast, whole)
  if (end < start) return cast.fail(path, `invalid port range "${text}": the end is before the start`)
  return [start, end]
}

function checkPort(n: number, path: FieldPath, cast: Cast, whole?: string): void {
  if (n < 0 || n > 65535) cast.fail(path, `invalid port ${whole ? `"${whole}"` : n}: ports are 0 to 65535`)
}

function protocol(value: unknown, path: FieldPath, cast: Cast): Port['protocol'] {
  const p = String(value).toLowerCase()
  if (!(PROTOCOLS as readonly string[]).includes(p)) return cast.fail(path, `invalid protocol "${value}": use tcp, udp or sctp`)
  return p as Port['protocol']
}

/** Key order as `docker compose config` prints a port. */
function reorder(p: Port): Port {
  const out: Port = { mode: p.mode } as Port
  if (p.name !== undefined) out.name = p.name
  if (p.host_ip !== undefined) out.host_ip = p.host_ip
  out.target = p.target
  if (p.published !== undefined) out.published = p.published
  out.protocol = p.protocol
  if (p.app_protocol !== undefined) out.app_protocol = p.app_protocol
  return out
}

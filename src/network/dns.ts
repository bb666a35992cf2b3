import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram'
import { readFile } from 'node:fs/promises'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { encodeAnswer, encodeError, parseQuery, RCODE_FORMERR, RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, TYPE_ANY, type Query } from './dns-packet.js'

/**
 * Service names by DNS, for tools that ask DNS directly (nslookup, dig, Go
 * and musl programs that skip /etc/hosts): each network's gateway address
 * answers on port 53, and a container's resolv.conf names it (see
 * resolvConf). The server runs inside the container monitors, not as a
 * process of its own: a monitor serves the networks of the containers it
 * runs, while they run, so nothing is left after `down`, and a killed
 * monitor's sockets are closed by the kernel — there is no daemon to leak.
 *
 * The answer is the asking container's /etc/hosts, read at each query: the
 * query's source address is a lease file on the network (networks/<id>/
 * leases/<address> names the container), and that container's hosts file,
 * which pier already rewrites whenever a container comes or goes, is the
 * view: its networks only, its links' aliases, every replica. So DNS and
 * /etc/hosts can never disagree, and the server keeps no state to go stale.
 *
 * Several monitors (one per pier process) may serve one network. UDP
 * sockets are bound with SO_REUSEADDR, so all of them hold the port and the
 * kernel hands each datagram to one; when that one closes, the next has it
 * at once. A TCP port has one listener: the others retry every second.
 */

export interface ServedNetwork {
  networkId: string
  gateway: string
}

/** A container's view: each name (lower-case) and its IPv4 addresses, in /etc/hosts order; its search domains; where other names go. */
export interface View {
  names: Map<string, string[]>
  search: string[]
  upstream: string[]
}

/**
 * The reply for `query` from `view`, or 'forward' for a name the view does
 * not hold. A name the view holds followed by one of the container's search
 * domains is that name: busybox's nslookup asks `web.<first search domain>`
 * and nothing else for `web`, so on a host with a search domain it would
 * otherwise never find a service.
 */
export function answer(query: Query, view: View): Buffer | 'forward' {
  const domain = view.search.find((d) => query.name.endsWith(`.${d}`) && view.names.has(query.name.slice(0, -d.length - 1)))
  const addresses = view.names.get(domain ? query.name.slice(0, -domain.length - 1) : query.name)
  if (addresses) return encodeAnswer(query, query.type === TYPE_A || query.type === TYPE_ANY ? addresses : [])
  // A single label is a container's or service's name or nothing: the outside has no such name to give.
  if (!query.name.includes('.')) return encodeAnswer(query, [], RCODE_NXDOMAIN)
  return 'forward'
}

/** The names of an /etc/hosts with their IPv4 addresses (lines for IPv6 addresses are left out: A records only). */
export function hostsNames(text: string): Map<string, string[]> {
  const names = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const [address, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/)
    if (!address || !/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) continue
    for (const alias of aliases) {
      const key = alias.toLowerCase().replace(/\.$/, '')
      const list = names.get(key) ?? []
      if (!list.includes(address)) list.push(address)
      names.set(key, list)
    }
  }
  return names
}

/** The file beside a container's resolv.conf that lists where names it does not know are sent. */
export const UPSTREAM_FILE = 'resolv.upstream'

const RETRY_MS = 1000
const FORWARD_TIMEOUT_MS = 2000

/** The name servers of one monitor, one per network it serves, counted by the containers that need them. */
export class NameServers {
  private readonly served = new Map<string, { users: number; close: () => void }>()

  /** `root`: the engine root, holding containers/ and networks/. */
  constructor(private readonly root: string) {}

  /** Serves `networks` until the returned function is called (each network once, however many containers use it). */
  serve(networks: ServedNetwork[]): () => void {
    for (const n of networks) {
      const current = this.served.get(n.networkId)
      if (current) current.users++
      else this.served.set(n.networkId, { users: 1, close: this.listen(n) })
    }
    let released = false
    return () => {
      if (released) return
      released = true
      for (const n of networks) {
        const current = this.served.get(n.networkId)
        if (current && --current.users === 0) {
          current.close()
          this.served.delete(n.networkId)
        }
      }
    }
  }

  /** The view of the container at `source` on the network, or undefined when no container of this root holds that address. */
  async view(network: ServedNetwork, source: string): Promise<View | undefined> {
    const id = (await readFile(join(this.root, 'networks', network.networkId, 'leases', source), 'utf8').catch(() => '')).trim()
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined
    const etc = join(this.root, 'containers', id, 'etc')
    const hosts = await readFile(join(etc, 'hosts'), 'utf8').catch(() => undefined)
    if (hosts === undefined) return undefined
    const upstream = (await readFile(join(etc, UPSTREAM_FILE), 'utf8').catch(() => '')).split('\n').filter(Boolean)
    const resolv = await readFile(join(etc, 'resolv.conf'), 'utf8').catch(() => '')
    const search = resolv.split('\n').filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1)).map((d) => d.toLowerCase().replace(/\.$/, '')).filter(Boolean)
    return { names: hostsNames(hosts), search, upstream }
  }

  /** The reply to one packet from `source`; undefined when there is none to send. */
  async reply(network: ServedNetwork, packet: Buffer, source: string, transport: 'udp' | 'tcp' = 'udp'): Promise<Buffer | undefined> {
    const query = parseQuery(packet)
    if (!query) return encodeError(packet, RCODE_FORMERR)
    const view = await this.view(network, source)
    // Not one of this root's containers (a container of another root cannot be on this bridge; the host itself can): refused, not forwarded.
    if (!view) return encodeAnswer(query, [], RCODE_SERVFAIL)
    const result = answer(query, view)
    if (result !== 'forward') return result
    // Over TCP, as asked: a client that retries over TCP after a truncated reply gets the whole answer.
    return (await (transport === 'tcp' ? forwardTcp : forward)(packet, view.upstream)) ?? encodeAnswer(query, [], RCODE_SERVFAIL)
  }

  /** Binds UDP and TCP port 53 on the gateway, retrying each until it is bound or closed. */
  private listen(network: ServedNetwork): () => void {
    let closed = false
    let udp: UdpSocket | undefined
    let tcp: Server | undefined
    const timers = new Set<NodeJS.Timeout>()
    const later = (fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t)
        if (!closed) fn()
      }, RETRY_MS)
      timers.add(t)
    }
    const bindUdp = () => {
      const socket = createSocket({ type: 'udp4', reuseAddr: true })
      let failed = false
      socket.on('message', (msg: Buffer, from: RemoteInfo) => {
        void this.reply(network, msg, from.address)
          .then((out) => out && !closed && socket.send(out, from.port, from.address))
          .catch(() => undefined)
      })
      socket.on('error', () => {
        if (failed) return
        failed = true
        closeQuietly(socket)
        if (udp === socket) udp = undefined
        later(bindUdp)
      })
      socket.bind({ address: network.gateway, port: 53 }, () => {
        if (closed) closeQuietly(socket)
      })
      udp = socket
    }
    const bindTcp = () => {
      const server = createServer((conn) => this.serveTcp(network, conn))
      let failed = false
      // An error after listening (EMFILE on accept) ends this listener too: it is made anew, as a failed bind is.
      server.on('error', () => {
        if (failed) return
        failed = true
        server.close()
        if (tcp === server) tcp = undefined
        later(bindTcp)
      })
      server.listen({ host: network.gateway, port: 53, exclusive: true }, () => {
        if (closed) server.close()
      })
      tcp = server
    }
    bindUdp()
    bindTcp()
    return () => {
      closed = true
      for (const t of timers) clearTimeout(t)
      if (udp) closeQuietly(udp)
      tcp?.close()
    }
  }

  /** DNS over TCP: each message behind its two-byte length, several per connection; idle connections end after 10 s. */
  private serveTcp(network: ServedNetwork, conn: Socket): void {
    let pending = Buffer.alloc(0)
    conn.setTimeout(10_000, () => conn.destroy())
    conn.on('error', () => conn.destroy())
    conn.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const packet = pending.subarray(2, 2 + pending.readUInt16BE(0))
        pending = pending.subarray(2 + packet.length)
        void this.reply(network, packet, conn.remoteAddress?.replace(/^::ffff:/, '') ?? '', 'tcp')
          .then((out) => {
            if (!out || conn.destroyed) return
            const length = Buffer.alloc(2)
            length.writeUInt16BE(out.length)
            conn.write(Buffer.concat([length, out]))
          })
          .catch(() => undefined)
      }
    })
  }
}

/** Closes a UDP socket that may be closed already (a close while its bind is pending, then the bind's callback). */
function closeQuietly(socket: UdpSocket): void {
  try {
    socket.close()
  } catch {
    // already closed
  }
}

/**
 * Relays a query to each upstream server in turn (UDP, port 53) and returns
 * the first reply with the query's ID, byte for byte; undefined when none
 * answers in time. Upstream servers are reached from the host (the monitor's
 * namespace), so a `dns:` server on the host's loopback works too.
 */
export async function forward(packet: Buffer, upstream: string[], timeoutMs = FORWARD_TIMEOUT_MS): Promise<Buffer | undefined> {
  for (const server of upstream) {
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const socket = createSocket(server.includes(':') ? 'udp6' : 'udp4')
      let finished = false
      const done = (out: Buffer | undefined) => {
        if (finished) return
        finished = true
        clearTimeout(timer)
        socket.close()
        resolve(out)
      }
      const timer = setTimeout(() => done(undefined), timeoutMs)
      socket.on('error', () => done(undefined))
      socket.on('message', (msg: Buffer) => {
        if (msg.length >= 2 && msg.readUInt16BE(0) === packet.readUInt16BE(0)) done(msg)
      })
      socket.send(packet, 53, server)
    })
    if (reply) return reply
  }
  return undefined
}

/** The same over TCP (the message behind its two-byte length), one connection per upstream server tried. */
export async function forwardTcp(packet: Buffer, upstream: string[], timeoutMs = FORWARD_TIMEOUT_MS): Promise<Buffer | undefined> {
  for (const server of upstream) {
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      let got = Buffer.alloc(0)
      const conn = createConnection({ host: server, port: 53, timeout: timeoutMs }, () => {
        const length = Buffer.alloc(2)
        length.writeUInt16BE(packet.length)
        conn.end(Buffer.concat([length, packet]))
      })
      const done = (out: Buffer | undefined) => {
        conn.destroy()
        resolve(out)
      }
      conn.on('timeout', () => done(undefined))
      conn.on('error', () => done(undefined))
      conn.on('close', () => done(undefined))
      conn.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk])
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(got.subarray(2, 2 + got.readUInt16BE(0)))
      })
    })
    if (reply) return reply
  }
  return undefined
}

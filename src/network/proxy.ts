import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram'
import { connect, createServer, type Server } from 'node:net'
import type { PortBinding } from '../engine/engine.js'

/**
 * Published ports by forwarding, not by NAT rules: the container's monitor
 * (which already lives as long as the container runs) listens on each host
 * port and relays connections and datagrams to the container's address.
 * Why: it answers on 127.0.0.1 without touching the host's route_localnet,
 * it needs no iptables/nft on the host, a port already taken is an error at
 * bind time, and when the monitor is gone (even killed) the kernel closes
 * the sockets, so nothing is ever left behind. The cost is a copy through a
 * process and the client's address replaced by the bridge's, as with Docker's
 * userland proxy.
 */
export interface PublishedPort {
  hostIp: string
  hostPort: string
  containerPort: number
  protocol: 'tcp' | 'udp' | 'sctp'
}

export interface Publication {
  ports: PublishedPort[]
  close(): void
}

export class PublishError extends Error {}

/** Binds every port (each host port range tried in order) and forwards to `target`. */
export async function publish(bindings: PortBinding[], target: string, defaultHostIp = '0.0.0.0'): Promise<Publication> {
  const closers: (() => void)[] = []
  const ports: PublishedPort[] = []
  const close = () => closers.forEach((c) => c())
  try {
    for (const b of bindings) {
      if (b.protocol === 'sctp') throw new PublishError(`port ${b.containerPort}/sctp: sctp ports cannot be published by the embedded engine`)
      const hostIp = b.hostIp || defaultHostIp
      const candidates = portCandidates(b.hostPort)
      let bound: { port: number; close: () => void } | undefined
      let lastError: NodeJS.ErrnoException | undefined
      for (const port of candidates) {
        try {
          bound = b.protocol === 'udp' ? await udpForward(hostIp, port, target, b.containerPort) : await tcpForward(hostIp, port, target, b.containerPort)
          break
        } catch (err) {
          lastError = err as NodeJS.ErrnoException
          if (lastError.code !== 'EADDRINUSE') break
        }
      }
      if (!bound) {
        const where = `${hostIp}:${b.hostPort ?? '0'}/${b.protocol}`
        if (lastError?.code === 'EADDRINUSE') throw new PublishError(`host port ${where} is already in use${candidates.length > 1 ? ' (every port of the range)' : ''}: free it or publish another port`)
        if (lastError?.code === 'EADDRNOTAVAIL') throw new PublishError(`cannot publish ${where}: ${hostIp} is not an address of this host`)
        if (lastError?.code === 'EACCES') throw new PublishError(`cannot publish ${where}: permission denied`)
        throw new PublishError(`cannot publish ${where}: ${lastError?.message ?? 'unknown error'}`)
      }
      closers.push(bound.close)
      ports.push({ hostIp, hostPort: String(bound.port), containerPort: b.containerPort, protocol: b.protocol })
    }
  } catch (err) {
    close()
    throw err
  }
  return { ports, close }
}

function portCandidates(hostPort: string | undefined): number[] {
  if (!hostPort) return [0]
  const [from, to] = hostPort.split('-').map(Number)
  if (to === undefined) return [from]
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

function tcpForward(hostIp: string, port: number, target: string, targetPort: number): Promise<{ port: number; close: () => void }> {
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    const upstream = connect({ host: target, port: targetPort })
    upstream.setNoDelay(true)
    client.setNoDelay(true)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    upstream.on('connect', () => {
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.on('error', end)
    client.on('error', end)
    upstream.on('close', () => client.end())
    client.on('close', () => upstream.end())
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: hostIp, port, exclusive: true }, () => {
      server.off('error', reject)
      resolve({ port: (server.address() as { port: number }).port, close: () => server.close() })
    })
  })
}

/** UDP: one upstream socket per client address, dropped after a minute without traffic. */
function udpForward(hostIp: string, port: number, target: string, targetPort: number): Promise<{ port: number; close: () => void }> {
  const server = createSocket(hostIp.includes(':') ? 'udp6' : 'udp4')
  const flows = new Map<string, { socket: UdpSocket; timer: NodeJS.Timeout }>()
  server.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`
    let flow = flows.get(key)
    if (!flow) {
      const socket = createSocket(target.includes(':') ? 'udp6' : 'udp4')
      socket.on('message', (reply) => server.send(reply, from.port, from.address))
      socket.on('error', () => undefined)
      flow = { socket, timer: setTimeout(() => undefined, 0) }
      flows.set(key, flow)
    }
    clearTimeout(flow.timer)
    const current = flow
    current.timer = setTimeout(() => {
      current.socket.close()
      flows.delete(key)
    }, 60_000)
    current.socket.send(msg, targetPort, target)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.bind({ address: hostIp, port, exclusive: true }, () => {
      server.off('error', reject)
      server.on('error', () => undefined)
      resolve({
        port: server.address().port,
        close: () => {
          for (const f of flows.values()) {
            clearTimeout(f.timer)
            f.socket.close()
          }
          server.close()
        },
      })
    })
  })
}

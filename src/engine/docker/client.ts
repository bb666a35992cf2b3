import http from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { Duplex, Readable } from 'node:stream'
import { EngineError, type EngineErrorCode } from '../errors.js'

/**
 * A small typed client of the Docker Engine API over node:http. No
 * dockerode: pier keeps no dependency for it, and the two hard parts — the
 * multiplexed streams and the hijacked connections of attach and exec — stay
 * under our control (streams.ts).
 */

/** The oldest API pier speaks (Docker 20.10) and the newest whose fields it knows. */
export const MIN_API = '1.41'
export const MAX_API = '1.45'

export interface Endpoint {
  /** As given: unix:///var/run/docker.sock, tcp://127.0.0.1:2375. */
  url: string
  socketPath?: string
  host?: string
  port?: number
}

export function parseHost(host = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock'): Endpoint {
  if (host.startsWith('unix://')) return { url: host, socketPath: host.slice('unix://'.length) }
  if (host.startsWith('/')) return { url: `unix://${host}`, socketPath: host }
  const m = /^(?:tcp|http):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(host)
  if (!m) throw new EngineError('invalid', `DOCKER_HOST "${host}" is not a unix:// or tcp:// address`)
  return { url: host, host: m[1], port: Number(m[2] ?? 2375) }
}

export interface RequestOptions {
  /** Without the /v1.xx prefix: GET /version, before a version is chosen. */
  unversioned?: boolean
  query?: Record<string, string | number | boolean | string[] | undefined>
  /** JSON (an object) or a stream sent as is (a tar). */
  body?: unknown
  headers?: Record<string, string>
  /** What the resource is, for error lines: "container web-1". */
  what?: string
}

/** Compares dotted API versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0)
  return 0
}

export class DockerClient {
  /** The negotiated API version: min(the server's, MAX_API). */
  version = MIN_API
  private readonly agent: http.Agent

  constructor(readonly endpoint: Endpoint) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  }

  /** GET /version, then speaks min(server, MAX_API); refuses a server older than MIN_API. */
  async negotiate(): Promise<{ Version: string; ApiVersion: string; Os: string; Arch: string }> {
    const v = await this.json<{ Version: string; ApiVersion: string; Os: string; Arch: string }>('GET', '/version', { unversioned: true })
    if (compareVersions(v.ApiVersion, MIN_API) < 0) throw new EngineError('unsupported', `the Docker engine at ${this.endpoint.url} speaks API ${v.ApiVersion} (Docker ${v.Version}); pier needs ${MIN_API} (Docker 20.10) or newer`)
    this.version = compareVersions(v.ApiVersion, MAX_API) < 0 ? v.ApiVersion : MAX_API
    return v
  }

  /** Whether the negotiated API is at least `v` (fields added later are sent only then). */
  atLeast(v: string): boolean {
    return compareVersions(this.version, v) >= 0
  }

  private options(method: string, path: string, options: RequestOptions, agent: http.Agent | false): http.RequestOptions {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v === undefined) continue
      if (Array.isArray(v)) for (const item of v) q.append(k, item)
      else q.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v))
    }
    const qs = q.toString()
    const headers: Record<string, string> = { ...options.headers }
    if (options.body !== undefined && !isStream(options.body)) headers['Content-Type'] = 'application/json'
    else if (options.body !== undefined) headers['Content-Type'] ??= 'application/x-tar'
    return {
      method,
      path: `${options.unversioned ? '' : `/v${this.version}`}${path}${qs ? `?${qs}` : ''}`,
      headers,
      agent,
      ...(this.endpoint.socketPath ? { socketPath: this.endpoint.socketPath } : { host: this.endpoint.host, port: this.endpoint.port }),
    }
  }

  /** The raw response of a successful request; a failure becomes an EngineError. Streams use their own connection. */
  async request(method: string, path: string, options: RequestOptions & { stream?: boolean } = {}): Promise<IncomingMessage> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = http.request(this.options(method, path, options, options.stream || isStream(options.body) ? false : this.agent), resolve)
      req.on('error', (err) => reject(this.connectionError(err)))
      send(req, options.body, reject)
    })
    if (res.statusCode! >= 400) throw await this.httpError(res, options.what)
    return res
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, options)
    const text = await readAll(res)
    return (text ? JSON.parse(text) : undefined) as T
  }

  /** A request whose answer does not matter (204, 304). */
  async call(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    await readAll(await this.request(method, path, options))
  }

  /**
   * A hijacked connection (attach, exec start): the HTTP request upgrades to
   * a raw TCP stream carrying stdin one way and the output the other.
   */
  hijack(method: string, path: string, options: RequestOptions = {}): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.options(method, path, { ...options, headers: { ...options.headers, Connection: 'Upgrade', Upgrade: 'tcp' } }, false))
      req.on('error', (err) => reject(this.connectionError(err)))
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head)
        resolve(socket)
      })
      req.on('response', (res) => {
        // An old daemon answers 200 and streams without upgrading; an error answers 4xx.
        if (res.statusCode! >= 400) this.httpError(res, options.what).then(reject, reject)
        else resolve(res.socket)
      })
      send(req, options.body, reject)
    })
  }

  close(): void {
    this.agent.destroy()
  }

  private connectionError(err: NodeJS.ErrnoException): EngineError {
    if (err.code === 'EACCES') return new EngineError('runtime', `permission denied on ${this.endpoint.url}: run pier as root or as a member of the docker group`, { cause: err })
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return new EngineError('runtime', `cannot reach the Docker engine at ${this.endpoint.url}: is it running?`, { cause: err })
    return new EngineError('runtime', `the Docker engine at ${this.endpoint.url} failed: ${err.message}`, { cause: err })
  }

  private async httpError(res: IncomingMessage, what?: string): Promise<EngineError> {
    const text = await readAll(res).catch(() => '')
    let message = text.trim()
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message
    } catch {
      // Not JSON: the body is the message.
    }
    return new EngineError(codeFor(res.statusCode!, message), `${what ? `${what}: ` : ''}${message || `HTTP ${res.statusCode}`}`)
  }
}

export function codeFor(status: number, message: string): EngineErrorCode {
  if (/denied|unauthorized|authentication required|manifest unknown|pull access/i.test(message)) return 'registry'
  if (status === 404) return 'not-found'
  // Podman answers a name in use with 500 and says so in words.
  if (status === 409 || /already in use/.test(message)) return 'conflict'
  if (status === 400) return 'invalid'
  return 'runtime'
}

function isStream(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function'
}

function send(req: http.ClientRequest, body: unknown, reject: (e: unknown) => void): void {
  if (body === undefined) req.end()
  else if (isStream(body)) {
    body.on('error', (e) => {
      req.destroy()
      reject(e)
    })
    body.pipe(req)
  } else req.end(JSON.stringify(body))
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string))
  return Buffer.concat(chunks).toString('utf8')
}

/** The JSON messages of a progress stream (pull, push, load, build), one per line. */
export async function* jsonLines<T>(stream: NodeJS.ReadableStream): AsyncIterable<T> {
  let rest = ''
  for await (const c of stream) {
    rest += Buffer.isBuffer(c) ? c.toString('utf8') : String(c)
    let cut: number
    while ((cut = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, cut).trim()
      rest = rest.slice(cut + 1)
      if (line) yield JSON.parse(line) as T
    }
  }
  if (rest.trim()) yield JSON.parse(rest) as T
}

/** Docker's `filters` query parameter for labels. */
export function labelFilter(labels: Record<string, string>, more: Record<string, string[]> = {}): string {
  return JSON.stringify({ ...more, label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) })
}

import { Readable } from 'node:stream'
import { credentialsFor, type Credentials } from './credentials.js'
import { EngineError } from './errors.js'

/** The most bytes of one JSON document pier reads from a registry (see embedded/images/documents.ts). */
const MAX_DOCUMENT = 4 * 1024 * 1024

/**
 * A client for one repository of a registry speaking the Registry HTTP API
 * v2 (the OCI distribution API): anonymous, bearer-token (answering the
 * WWW-Authenticate challenge) or basic auth, with credentials from the
 * Docker config file; plain HTTP for loopback registries and those listed in
 * PIER_INSECURE_REGISTRIES, HTTPS otherwise.
 */
export class RegistryClient {
  private readonly base: string
  private authorization?: string
  private tokenScopes?: string
  private readonly credentials?: Credentials

  /** An empty `repository` is the registry itself (`ping`, `catalog`); `credentials` default to the stored ones. */
  constructor(
    readonly registry: string,
    readonly repository: string,
    private readonly actions: ('pull' | 'push')[] = ['pull'],
    credentials?: Credentials,
  ) {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry
    this.base = `${insecure(registry) ? 'http' : 'https'}://${host}/v2/${repository}`
    this.credentials = credentials ?? credentialsFor(registry)
  }

  /** GET /v2/: succeeds when the registry lets these credentials in (`pier login`). */
  async ping(): Promise<void> {
    await this.request('GET', '')
  }

  /** Every repository name of the registry's catalog, following its `Link` pages up to `limit` names. */
  async catalog(limit = 10_000): Promise<string[]> {
    const names: string[] = []
    let path: string | undefined = `_catalog?n=${Math.min(limit, 1000)}`
    while (path && names.length < limit) {
      const res = await this.request('GET', path)
      const body = JSON.parse((await capped(res, `${this.registry}: the catalog`)).toString('utf8')) as { repositories?: string[] }
      names.push(...(body.repositories ?? []))
      const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1]
      path = next ? new URL(next, this.base).toString() : undefined
    }
    return names.slice(0, limit)
  }

  /** GETs a manifest; `digest` is what the registry says it is, checked by the caller. */
  async manifest(reference: string, accept: string[]): Promise<{ body: Buffer; mediaType: string; digest?: string }> {
    const res = await this.request('GET', `/manifests/${reference}`, { headers: { accept: accept.join(', ') } })
    const body = await capped(res, `${this.registry}/${this.repository}: the manifest ${reference}`)
    return { body, mediaType: (res.headers.get('content-type') ?? '').split(';')[0], digest: res.headers.get('docker-content-digest') ?? undefined }
  }

  async blob(digest: string): Promise<{ stream: Readable; size?: number }> {
    const res = await this.request('GET', `/blobs/${digest}`)
    const length = res.headers.get('content-length')
    return { stream: Readable.fromWeb(res.body as any), ...(length ? { size: Number(length) } : {}) }
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/blobs/${digest}`, { allow: [404] })
    return res.status === 200
  }

  /** A monolithic upload: start a session, then PUT the whole blob with its digest. */
  async uploadBlob(digest: string, body: Buffer | Readable, size: number): Promise<void> {
    const start = await this.request('POST', '/blobs/uploads/', { headers: { 'content-length': '0' } })
    const location = start.headers.get('location')
    if (!location) throw new EngineError('registry', `registry ${this.registry} did not say where to upload (no Location header)`)
    const url = new URL(location, this.base)
    url.searchParams.set('digest', digest)
    await this.request('PUT', url.toString(), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: Buffer.isBuffer(body) ? body : (Readable.toWeb(body) as any),
    })
  }

  async putManifest(reference: string, body: Buffer, mediaType: string): Promise<string | undefined> {
    const res = await this.request('PUT', `/manifests/${reference}`, { headers: { 'content-type': mediaType }, body })
    return res.headers.get('docker-content-digest') ?? undefined
  }

  private async request(method: string, path: string, options: { headers?: Record<string, string>; body?: any; allow?: number[] } = {}): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`
    let used: string | undefined
    const send = () => {
      used = this.authorization
      return fetch(url, {
        method,
        headers: { ...options.headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        body: options.body,
        redirect: 'follow',
        ...(options.body && !Buffer.isBuffer(options.body) ? { duplex: 'half' } : {}),
      } as RequestInit)
    }
    let res: Response
    // The body of a refusal we could not answer, kept for the error message.
    let refusal: string | undefined
    try {
      res = await send()
      if (res.status === 401 && !(options.body && !Buffer.isBuffer(options.body))) {
        const challenge = res.headers.get('www-authenticate')
        refusal = await res.text().catch(() => '')
        // Requests run in parallel: another one may have logged in since this one was sent.
        const retry = this.authorization !== used || (challenge !== null && (await this.authenticate(challenge)))
        if (retry) {
          res = await send()
          refusal = undefined
        }
      }
    } catch (err) {
      if (err instanceof EngineError) throw err
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw new EngineError('registry', `cannot reach registry ${this.registry}: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
    }
    if (res.ok || options.allow?.includes(res.status)) return res
    const detail = refusal ?? (await res.text().catch(() => ''))
    throw this.failure(res.status, method, path, detail)
  }

  /** Answers a WWW-Authenticate challenge; false when there is nothing more to try. */
  private async authenticate(challenge: string): Promise<boolean> {
    const scheme = challenge.split(' ')[0].toLowerCase()
    if (scheme === 'basic') {
      if (!this.credentials || this.authorization?.startsWith('Basic')) return false
      this.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`
      return true
    }
    if (scheme !== 'bearer') return false
    const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    if (!params.realm) return false
    // Ask for every action this client needs on its repository at once (a
    // push also pulls), plus whatever else the challenge names; a second
    // challenge for a scope the token already covered means: refused.
    const scopes = new Set(this.repository ? [`repository:${this.repository}:${this.actions.join(',')}`] : [])
    if (params.scope) for (const scope of params.scope.split(' ')) scopes.add(scope)
    const wanted = [...scopes].sort().join(' ')
    if (this.authorization?.startsWith('Bearer') && this.tokenScopes === wanted) return false
    const url = new URL(params.realm)
    if (params.service) url.searchParams.set('service', params.service)
    for (const scope of scopes) url.searchParams.append('scope', scope)
    const headers: Record<string, string> = {}
    if (this.credentials) headers.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`
    let res: Response
    try {
      res = await fetch(url, { headers })
    } catch (err) {
      throw new EngineError('registry', `cannot reach the token service of ${this.registry} (${url.host}): ${(err as Error).message}`)
    }
    if (!res.ok) throw this.failure(res.status, 'GET', 'token', await res.text().catch(() => ''))
    const body = (await res.json()) as { token?: string; access_token?: string }
    const token = body.token ?? body.access_token
    if (!token) throw new EngineError('registry', `the token service of ${this.registry} answered without a token`)
    this.authorization = `Bearer ${token}`
    this.tokenScopes = wanted
    return true
  }

  private failure(status: number, method: string, path: string, detail: string): EngineError {
    const what = `${this.registry}/${this.repository}`
    const reason = registryMessage(detail)
    if (status === 401 || status === 403) {
      return new EngineError('registry', `registry ${this.registry} refused access${this.repository ? ` to ${this.repository}` : ''} (HTTP ${status}${reason}): log in with "pier login ${this.registry}"`)
    }
    if (status === 404) return new EngineError('not-found', `${what}: not found in the registry (HTTP 404${reason} for ${method} ${path.split('?')[0]})`)
    return new EngineError('registry', `registry ${this.registry} failed: HTTP ${status}${reason} for ${method} ${path.split('?')[0]}`)
  }
}

function registryMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] }
    const first = parsed.errors?.[0]
    return first ? `, ${first.code ?? ''}${first.message ? `: ${first.message}` : ''}` : ''
  } catch {
    return ''
  }
}

/** A response body of at most MAX_DOCUMENT bytes, refused as soon as it says or proves to be bigger. */
async function capped(res: Response, what: string): Promise<Buffer> {
  const tooBig = (size: number | string) => new EngineError('registry', `${what} is ${size} bytes, more than the ${MAX_DOCUMENT} pier reads for one JSON document`)
  const length = Number(res.headers.get('content-length') ?? 0)
  if (length > MAX_DOCUMENT) {
    await res.body?.cancel().catch(() => undefined)
    throw tooBig(length)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.length
    if (size > MAX_DOCUMENT) {
      await res.body?.cancel().catch(() => undefined)
      throw tooBig(`over ${size}`)
    }
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks)
}

/** Loopback registries and those in PIER_INSECURE_REGISTRIES are spoken to over plain HTTP. */
function insecure(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '')
  if (host === 'localhost' || host === '[::1]' || /^127\./.test(host)) return true
  return (process.env.PIER_INSECURE_REGISTRIES ?? '').split(',').map((r) => r.trim()).includes(registry)
}

import { execFileSync } from 'node:child_process'
import { createSign, randomBytes, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A token service for a registry in token-auth mode, as Docker Hub runs one:
 * it checks the user's basic credentials and answers a signed JWT granting
 * the requested scope. Its key and self-signed certificate are made with
 * openssl; the registry trusts the certificate (rootcertbundle).
 */
export class TokenServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'pier-token-'))
  readonly certFile = join(this.dir, 'cert.pem')
  readonly issuer = 'pier-test-issuer'
  readonly service = 'pier-test-registry'
  private readonly keyFile = join(this.dir, 'key.pem')
  private server?: Server
  port = 0
  /** Scopes asked for, to check what the client requested. */
  readonly requests: string[] = []

  constructor(private readonly users: Record<string, string>) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', this.keyFile, '-out', this.certFile, '-days', '1', '-subj', '/CN=pier-test-token'], { stdio: 'ignore' })
  }

  get realm(): string {
    return `http://127.0.0.1:${this.port}/token`
  }

  async start(): Promise<this> {
    const key = readFileSync(this.keyFile, 'utf8')
    const der = new X509Certificate(readFileSync(this.certFile)).raw.toString('base64')
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.realm)
      const [user, password] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':')
      if (!user || this.users[user] !== password) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong user or password"}')
        return
      }
      const scope = url.searchParams.get('scope') ?? ''
      this.requests.push(scope)
      const [type, name, actions] = scope.split(':')
      const now = Math.floor(Date.now() / 1000)
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const head = b64({ alg: 'RS256', typ: 'JWT', x5c: [der] })
      const claims = b64({
        iss: this.issuer,
        sub: user,
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access: name ? [{ type: type || 'repository', name, actions: (actions ?? '').split(',') }] : [],
      })
      const signature = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(key).toString('base64url')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${head}.${claims}.${signature}` }))
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as { port: number }).port
    return this
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

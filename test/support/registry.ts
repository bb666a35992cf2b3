import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Debian's docker-registry (the CNCF distribution registry), started for a
 * test on 127.0.0.1 with a random port and its own storage, stopped and
 * removed afterwards.
 */
export class TestRegistry {
  private process?: ChildProcess
  private dir = ''
  port = 0

  /**
   * With users, the registry asks for basic auth (an htpasswd file, bcrypt,
   * made by apache2-utils' htpasswd); with a token service, for bearer tokens.
   */
  constructor(
    private readonly users: Record<string, string> = {},
    private readonly tokens?: { realm: string; service: string; issuer: string; certFile: string },
  ) {}

  /** Where the registry keeps blobs: <dataDir>/docker/registry/v2/blobs/sha256/<2>/<hex>/data. */
  get dataDir(): string {
    return join(this.dir, 'data')
  }

  get host(): string {
    return `127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'pier-registry-'))
    this.port = await freePort()
    const config = join(this.dir, 'config.yml')
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(this.dir, 'data')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${this.port}`,
        ...(Object.keys(this.users).length ? ['auth:', '  htpasswd:', '    realm: pier-test', `    path: ${join(this.dir, 'htpasswd')}`] : []),
        ...(this.tokens
          ? ['auth:', '  token:', `    realm: ${this.tokens.realm}`, `    service: ${this.tokens.service}`, `    issuer: ${this.tokens.issuer}`, `    rootcertbundle: ${this.tokens.certFile}`]
          : []),
        '',
      ].join('\n'),
    )
    const htpasswd = Object.entries(this.users).map(([user, password]) => execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim())
    writeFileSync(join(this.dir, 'htpasswd'), htpasswd.join('\n') + '\n')
    this.process = spawn('docker-registry', ['serve', config], { stdio: 'ignore' })
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://${this.host}/v2/`)
        if (res.ok || res.status === 401) return this
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('docker-registry did not start within 10 s')
  }

  async stop(): Promise<void> {
    if (this.process && this.process.exitCode === null) {
      const exited = new Promise((r) => this.process!.once('exit', r))
      this.process.kill('SIGTERM')
      await exited
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

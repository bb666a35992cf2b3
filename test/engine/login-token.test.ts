import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { EngineError } from '../../src/engine/errors.js'
import { TestRegistry } from '../support/registry.js'
import { TokenServer } from '../support/token-server.js'

/** `pier login`'s check and `pier search` on a registry in token-auth mode (as Docker Hub runs): the token service decides. */
describe('embedded engine: login check and catalog search with bearer tokens', function () {
  this.timeout(60_000)
  let tokens: TokenServer
  let registry: TestRegistry
  let root: string
  let engine: EmbeddedEngine
  before(async () => {
    tokens = await new TokenServer({ carol: 'tok3n' }).start()
    registry = await new TestRegistry({}, tokens).start()
    root = mkdtempSync(join(tmpdir(), 'pier-root-'))
    engine = new EmbeddedEngine({ root })
  })
  after(async () => {
    await engine?.close()
    rmSync(root, { recursive: true, force: true })
    await registry?.stop()
    await tokens?.stop()
  })

  it('accepts the credentials the token service accepts, refuses others in one line', async () => {
    await engine.checkLogin(registry.host, { username: 'carol', password: 'tok3n' })
    await assert.rejects(engine.checkLogin(registry.host, { username: 'carol', password: 'wrong' }), (e: unknown) => e instanceof EngineError && e.code === 'registry' && !e.message.includes('\n'))
  })

  it("asks for the catalog's scope when the registry names it", async () => {
    const saved = process.env.DOCKER_CONFIG
    const config = mkdtempSync(join(tmpdir(), 'pier-docker-config-'))
    process.env.DOCKER_CONFIG = config
    try {
      const { storeCredentials } = await import('../../src/engine/credentials.js')
      storeCredentials(registry.host, { username: 'carol', password: 'tok3n' })
      assert.deepEqual(await engine.searchRegistry(registry.host, 'any'), [])
      assert.ok(tokens.requests.some((s) => s.startsWith('registry:catalog:')), tokens.requests.join(' '))
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG
      else process.env.DOCKER_CONFIG = saved
      rmSync(config, { recursive: true, force: true })
    }
  })
})

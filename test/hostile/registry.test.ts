import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { oneLine, Sandbox } from '../support/sandbox.js'

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

/**
 * A hostile registry on 127.0.0.1: it answers every manifest request of
 * repository `evil` with what the test sets, and nothing else. Each pull
 * must fail in one line, with nothing stored and tmp/ left empty.
 */
describe('hostile registries', () => {
  let box: Sandbox
  let engine: EmbeddedEngine
  let server: Server
  let host = ''
  let reply: { type: string; body: Buffer; chunked?: boolean } = { type: OCI_MANIFEST, body: Buffer.from('{}') }
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}')
      if (!req.url?.startsWith('/v2/evil/manifests/')) return void res.writeHead(404).end()
      const digest = `sha256:${createHash('sha256').update(reply.body).digest('hex')}`
      res.writeHead(200, { 'content-type': reply.type, 'docker-content-digest': digest, ...(reply.chunked ? {} : { 'content-length': reply.body.length }) })
      res.end(reply.body)
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((done) => server.close(() => done())))
  beforeEach(() => {
    box = new Sandbox()
    engine = new EmbeddedEngine({ root: box.mkdir('root') })
  })
  afterEach(async () => {
    await engine.close()
    box.cleanup()
  })

  const pull = async (type: string, body: unknown, chunked = false) => {
    reply = { type, body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)), chunked }
    return engine.pullImage(`${host}/evil:1`)
  }

  it('refuses manifests and indexes of the wrong shape, in one line', async () => {
    await assert.rejects(pull(OCI_MANIFEST, { schemaVersion: 2 }), oneLine(/evil:1: the manifest config is not a descriptor/))
    await assert.rejects(pull(OCI_MANIFEST, { schemaVersion: 2, config: { digest: `sha256:${'0'.repeat(64)}` }, layers: {} }), oneLine(/the manifest has no list of layers/))
    await assert.rejects(pull(OCI_MANIFEST, []), oneLine(/the manifest is a list, not an image manifest/))
    await assert.rejects(pull(OCI_INDEX, { manifests: { linux: 1 } }), oneLine(/the index is not an image index/))
    await assert.rejects(pull(OCI_MANIFEST, Buffer.from('{not json')), oneLine(/the manifest is not valid JSON/))
    assert.deepEqual(await engine.listImages(), [])
  })

  it('refuses a manifest over 4 MiB, announced or not, and a config announced over it', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20)
    await assert.rejects(pull(OCI_MANIFEST, big), oneLine(/the manifest 1 is 5242880 bytes, more than the 4194304/))
    await assert.rejects(pull(OCI_MANIFEST, big, true), oneLine(/the manifest 1 is over \d+ bytes, more than the 4194304/))
    await assert.rejects(pull(OCI_MANIFEST, { schemaVersion: 2, config: { digest: `sha256:${'0'.repeat(64)}`, size: 1e9 }, layers: [] }), oneLine(/the config is 1000000000 bytes, more than the 4194304/))
    assert.deepEqual(await engine.listImages(), [])
  })
})

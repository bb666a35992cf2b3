import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DockerEngine } from '../../../src/engine/docker/engine.js'
import { EngineError } from '../../../src/engine/errors.js'
import { dockerWithBusybox } from '../../support/dockerd.js'
import { driverSuite } from './driver-suite.js'
import { contractSuite } from './suite.js'

// On DOCKER_HOST's daemon when one answers there, else on a dockerd of the test's own (test/support/dockerd.ts).
contractSuite('docker', async () => dockerWithBusybox({ 'com.docker.compose.project': `contract-p-${process.pid}` }))
driverSuite('docker')

/** The client's answers to a daemon it cannot use, on a fake daemon: no dockerd needed. */
describe('docker driver: connecting', () => {
  const fake = async (version: string, run: (host: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'pier-fake-docker-'))
    const server = createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json')
      if (req.url === '/version') return void res.end(JSON.stringify({ Version: '19.03.0', ApiVersion: version, Os: 'linux', Arch: 'amd64' }))
      res.statusCode = req.url?.includes('/containers/') ? 404 : 409
      res.end(JSON.stringify({ message: req.url?.includes('/containers/') ? 'No such container: x' : 'name in use' }))
    })
    await new Promise<void>((r) => server.listen(join(dir, 'd.sock'), r))
    try {
      await run(`unix://${join(dir, 'd.sock')}`)
    } finally {
      await new Promise((r) => server.close(r))
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('refuses an API older than 1.41 in one line', async () => {
    await fake('1.40', async (host) => {
      await assert.rejects(DockerEngine.connect(host), (e: unknown) => e instanceof EngineError && e.code === 'unsupported' && /speaks API 1\.40 \(Docker 19\.03\.0\); pier needs 1\.41/.test(e.message))
    })
  })

  it('speaks the lower of the two versions, and maps 404 and 409', async () => {
    await fake('1.99', async (host) => {
      const engine = await DockerEngine.connect(host)
      assert.equal(engine.apiVersion, '1.45')
      assert.equal(await engine.inspectContainer('x'), undefined)
      await assert.rejects(engine.start('x'), (e: unknown) => e instanceof EngineError && e.code === 'not-found' && e.message === 'container x: No such container: x')
      await assert.rejects(engine.createVolume({ name: 'v', labels: {} }), (e: unknown) => e instanceof EngineError && e.code === 'conflict')
      await engine.close()
    })
  })

  it('says when no daemon answers', async () => {
    await assert.rejects(DockerEngine.connect('unix:///run/pier-no-such-docker.sock'), (e: unknown) => e instanceof EngineError && e.message === 'cannot reach the Docker engine at unix:///run/pier-no-such-docker.sock: is it running?')
  })
})

import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import type { ProgressEvent } from '../../src/engine/engine.js'
import { busyboxImage, dockerArchive, ociArchive } from '../support/images.js'
import { freePort, TestRegistry } from '../support/registry.js'
import { TokenServer } from '../support/token-server.js'

describe('image store: registries (docker-registry on 127.0.0.1)', function () {
  this.timeout(60_000)
  const registry = new TestRegistry()
  const roots: string[] = []
  const engine = () => {
    const root = mkdtempSync(join(tmpdir(), 'pier-root-'))
    roots.push(root)
    return { root, engine: new EmbeddedEngine({ root }) }
  }
  before(async () => {
    await registry.start()
  })
  after(async () => {
    await registry.stop()
    for (const r of roots) rmSync(r, { recursive: true, force: true })
  })

  it('pushes a loaded image and pulls it into another root as the same image', async () => {
    const source = engine()
    const name = `${registry.host}/test/busybox:1`
    await source.engine.loadImages(Readable.from(await ociArchive(await busyboxImage([name]))))
    const pushed: ProgressEvent[] = []
    const { digest } = await source.engine.pushImage(name, { progress: (e) => pushed.push(e) })
    assert.match(digest, /^sha256:[a-f0-9]{64}$/)
    assert.ok(pushed.some((e) => e.kind === 'bytes' && e.status === 'Pushed'))

    const target = engine()
    const events: ProgressEvent[] = []
    const image = await target.engine.pullImage(name, { progress: (e) => events.push(e) })
    const original = (await source.engine.inspectImage(name))!
    assert.equal(image.id, original.id)
    assert.deepEqual(image.layers, original.layers)
    assert.deepEqual(image.tags, [name])
    assert.deepEqual(image.digests, [`${registry.host}/test/busybox@${digest}`])
    assert.ok(events.some((e) => e.status === 'Download complete'))

    const again: ProgressEvent[] = []
    await target.engine.pullImage(name, { progress: (e) => again.push(e) })
    assert.ok(!again.some((e) => e.status === 'Download complete'), 'a second pull downloads nothing')
    assert.ok(again.some((e) => e.status === 'Already exists'))

    const byDigest = await engine().engine.pullImage(`${registry.host}/test/busybox@${digest}`)
    assert.equal(byDigest.id, original.id)
    assert.deepEqual(byDigest.tags, [], 'a pull by digest names no tag')
  })

  it('pushes a docker save image (uncompressed layers) that pulls back', async () => {
    const source = engine()
    const name = `${registry.host}/test/plain:latest`
    await source.engine.loadImages(Readable.from(await dockerArchive([await busyboxImage([name], { Cmd: ['echo', 'plain'] })])))
    await source.engine.pushImage(name)
    const pulled = await engine().engine.pullImage(name)
    assert.deepEqual(pulled.config.cmd, ['echo', 'plain'])
  })

  it('says so when the image does not exist, and stores nothing', async () => {
    const target = engine()
    await assert.rejects(target.engine.pullImage(`${registry.host}/test/missing:1`), /127\.0\.0\.1:\d+\/test\/missing: not found in the registry \(HTTP 404/)
    assert.deepEqual(await target.engine.listImages(), [])
    assert.deepEqual(readdirSync(join(target.root, 'images/blobs/sha256')), [])
  })

  it('refuses an image made for another platform', async () => {
    const source = engine()
    const name = `${registry.host}/test/arm:1`
    const img = await busyboxImage([name])
    img.config.architecture = 'arm64'
    await source.engine.loadImages(Readable.from(await dockerArchive([img])))
    await source.engine.pushImage(name)
    const target = engine()
    await assert.rejects(target.engine.pullImage(name), /test\/arm:1 is an image for linux\/arm64, not linux\/amd64/)
    assert.deepEqual(await target.engine.listImages(), [])
  })

  it('picks linux/amd64 from an index, and names the platforms when it is missing', async () => {
    const source = engine()
    const manifestOf = async (tag: string, arch: string) => {
      const name = `${registry.host}/test/multi:${tag}`
      const img = await busyboxImage([name], { Cmd: ['echo', arch] })
      img.config.architecture = arch
      await source.engine.loadImages(Readable.from(await dockerArchive([img])))
      const { digest } = await source.engine.pushImage(name)
      const res = await fetch(`http://${registry.host}/v2/test/multi/manifests/${digest}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
      return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: Number(res.headers.get('content-length')), platform: { os: 'linux', architecture: arch } }
    }
    const amd = await manifestOf('amd', 'amd64')
    const arm = await manifestOf('arm', 'arm64')
    const putIndex = async (tag: string, manifests: unknown[]) => {
      const res = await fetch(`http://${registry.host}/v2/test/multi/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
        body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
      })
      assert.equal(res.status, 201)
    }
    await putIndex('both', [arm, amd])
    await putIndex('armonly', [arm])
    const pulled = await engine().engine.pullImage(`${registry.host}/test/multi:both`)
    assert.deepEqual(pulled.config.cmd, ['echo', 'amd64'])
    assert.deepEqual(pulled.digests, [`${registry.host}/test/multi@${amd.digest}`])
    await assert.rejects(engine().engine.pullImage(`${registry.host}/test/multi:armonly`), /test\/multi:armonly has no image for linux\/amd64 \(it has: linux\/arm64\)/)
  })

  it('refuses a blob whose content does not match its digest, and keeps none of it', async () => {
    const source = engine()
    const name = `${registry.host}/test/tampered:1`
    const [image] = await source.engine.loadImages(Readable.from(await ociArchive(await busyboxImage([name]))))
    await source.engine.pushImage(name)
    const record = JSON.parse(readFileSync(join(source.root, 'images/catalog.json'), 'utf8')).images[image.id]
    const layerDigest: string = record.layers[0].digest
    const data = join(registry.dataDir, 'docker/registry/v2/blobs/sha256', layerDigest.slice(7, 9), layerDigest.slice(7), 'data')
    const bytes = readFileSync(data)
    bytes[bytes.length - 1] ^= 0xff
    writeFileSync(data, bytes)
    const target = engine()
    await assert.rejects(
      target.engine.pullImage(name),
      new RegExp(`test/tampered: blob ${layerDigest}: content does not match its digest: expected ${layerDigest}, got sha256:`),
    )
    assert.deepEqual(await target.engine.listImages(), [])
    assert.ok(!readdirSync(join(target.root, 'images/blobs/sha256')).includes(layerDigest.slice(7)))
    assert.deepEqual(readdirSync(join(target.root, 'tmp')), [])
  })

  it('logs in with basic auth from the Docker config file, and says what to do without it', async () => {
    const secured = await new TestRegistry({ alice: 's3cret' }).start()
    const dockerConfig = mkdtempSync(join(tmpdir(), 'pier-docker-config-'))
    const saved = process.env.DOCKER_CONFIG
    try {
      const name = `${secured.host}/private/busybox:1`
      const source = engine()
      await source.engine.loadImages(Readable.from(await ociArchive(await busyboxImage([name]))))
      process.env.DOCKER_CONFIG = dockerConfig
      await assert.rejects(source.engine.pushImage(name), /registry 127\.0\.0\.1:\d+ refused access to private\/busybox \(HTTP 401[^)]*\): log in with "pier login 127\.0\.0\.1:\d+"/)
      writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }))
      await source.engine.pushImage(name)
      const pulled = await engine().engine.pullImage(name)
      assert.deepEqual(pulled.tags, [name])
      writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('alice:wrong').toString('base64') } } }))
      await assert.rejects(engine().engine.pullImage(name), /refused access to private\/busybox \(HTTP 401/)
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG
      else process.env.DOCKER_CONFIG = saved
      rmSync(dockerConfig, { recursive: true, force: true })
      await secured.stop()
    }
  })

  it('answers a bearer-token challenge with a token from the realm, credentials from the Docker config', async () => {
    const tokens = await new TokenServer({ bob: 'pa55' }).start()
    const secured = await new TestRegistry({}, tokens).start()
    const dockerConfig = mkdtempSync(join(tmpdir(), 'pier-docker-config-'))
    const saved = process.env.DOCKER_CONFIG
    try {
      process.env.DOCKER_CONFIG = dockerConfig
      const name = `${secured.host}/team/busybox:1`
      const source = engine()
      await source.engine.loadImages(Readable.from(await ociArchive(await busyboxImage([name]))))
      await assert.rejects(source.engine.pushImage(name), /the token service of 127\.0\.0\.1:\d+ .*refused|refused access/)
      writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('bob:pa55').toString('base64') } } }))
      await source.engine.pushImage(name)
      assert.ok(tokens.requests.includes('repository:team/busybox:pull,push'), `scopes asked: ${tokens.requests.join(' ')}`)
      const pulled = await engine().engine.pullImage(name)
      assert.deepEqual(pulled.tags, [name])
      assert.ok(tokens.requests.includes('repository:team/busybox:pull'))
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG
      else process.env.DOCKER_CONFIG = saved
      rmSync(dockerConfig, { recursive: true, force: true })
      await secured.stop()
      await tokens.stop()
    }
  })

  it('names the registry it cannot reach', async () => {
    const port = await freePort()
    await assert.rejects(engine().engine.pullImage(`127.0.0.1:${port}/x:1`), new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port}: ECONNREFUSED`))
  })
})

import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { EngineError } from '../../src/engine/errors.js'
import { busyboxImage, configFor, digest, dockerArchive, ociArchive, tarOf } from '../support/images.js'

/** A fresh engine root per test, removed afterwards. */
function freshRoot(): { root: string; engine: EmbeddedEngine; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'pier-root-'))
  return { root, engine: new EmbeddedEngine({ root }), cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

async function collect(write: (out: PassThrough) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  await write(out)
  return Buffer.concat(chunks)
}

describe('image store: archives', () => {
  let env: ReturnType<typeof freshRoot>
  beforeEach(() => {
    env = freshRoot()
  })
  afterEach(() => env.cleanup())

  it('loads a docker save archive, names it as Docker does, and unpacks its layer once', async () => {
    const img = await busyboxImage(['busybox:latest', 'example.com/team/tool:1'])
    const [loaded] = await env.engine.loadImages(Readable.from(await dockerArchive([img])))
    assert.equal(loaded.id, digest(JSON.stringify(img.config)))
    assert.deepEqual(loaded.tags, ['docker.io/library/busybox:latest', 'example.com/team/tool:1'])
    assert.deepEqual(loaded.config.cmd, ['sh'])
    assert.deepEqual(loaded.platform, { os: 'linux', architecture: 'amd64' })
    for (const ref of ['busybox', 'docker.io/library/busybox:latest', 'example.com/team/tool:1', loaded.id, loaded.id.slice(7, 19)]) {
      assert.equal((await env.engine.inspectImage(ref))?.id, loaded.id, ref)
    }
    assert.equal(await env.engine.inspectImage('busybox:other'), undefined)
    const layerDir = join(env.root, 'images/layers', loaded.layers[0].slice(7))
    assert.ok(statSync(join(layerDir, 'bin/busybox')).mode & 0o111, 'busybox is executable')
    assert.equal(readdirSync(join(env.root, 'tmp')).length, 0, 'nothing left in tmp')
  })

  it('loads an OCI archive with gzip layers, and shares a layer between images', async () => {
    const img = await busyboxImage(['localhost:5000/busy:oci'])
    const [loaded] = await env.engine.loadImages(Readable.from(await ociArchive(img)))
    assert.deepEqual(loaded.tags, ['localhost:5000/busy:oci'])
    const other = await busyboxImage(['busybox:two'], { Cmd: ['echo', 'two'] })
    const [second] = await env.engine.loadImages(Readable.from(await dockerArchive([other])))
    assert.notEqual(second.id, loaded.id)
    assert.deepEqual(second.layers, loaded.layers)
    assert.equal(readdirSync(join(env.root, 'images/layers')).length, 1, 'the shared layer is unpacked once')
  })

  it('saves an archive that loads back into another root as the same image', async () => {
    const img = await busyboxImage(['busybox:latest'])
    await env.engine.loadImages(Readable.from(await ociArchive(img)))
    const archive = await collect((out) => env.engine.saveImages(['busybox'], out))
    const other = freshRoot()
    try {
      const [back] = await other.engine.loadImages(Readable.from(archive))
      const original = (await env.engine.inspectImage('busybox'))!
      assert.equal(back.id, original.id)
      assert.deepEqual(back.layers, original.layers)
      assert.deepEqual(back.tags, ['docker.io/library/busybox:latest'])
    } finally {
      other.cleanup()
    }
  })

  it('tags, untags, and removes an image with its last name, layers included', async () => {
    const [img] = await env.engine.loadImages(Readable.from(await dockerArchive([await busyboxImage()])))
    await env.engine.tagImage('busybox', 'mine:v1')
    assert.deepEqual((await env.engine.inspectImage('mine:v1'))?.tags, ['docker.io/library/busybox:latest', 'docker.io/library/mine:v1'])
    assert.deepEqual(await env.engine.removeImage('busybox'), { untagged: ['busybox:latest'], deleted: [] })
    assert.ok(existsSync(join(env.root, 'images/layers', img.layers[0].slice(7))))
    assert.deepEqual(await env.engine.removeImage('mine:v1'), { untagged: ['mine:v1'], deleted: [img.id] })
    assert.deepEqual(readdirSync(join(env.root, 'images/layers')), [])
    assert.deepEqual(readdirSync(join(env.root, 'images/blobs/sha256')), [])
    await assert.rejects(env.engine.removeImage('busybox'), (e: unknown) => e instanceof EngineError && e.code === 'not-found' && /no such image: busybox/.test(e.message))
  })

  it('refuses a truncated archive and leaves nothing that looks complete', async () => {
    const archive = await dockerArchive([await busyboxImage()])
    await assert.rejects(env.engine.loadImages(Readable.from(archive.subarray(0, archive.length / 2))), /cannot load the archive: it ends early \(truncated\?\)/)
    assert.deepEqual(await env.engine.listImages(), [])
    assert.deepEqual(readdirSync(join(env.root, 'images/layers')), [])
    assert.deepEqual(readdirSync(join(env.root, 'tmp')), [])
  })

  it('refuses a layer whose content does not match its digest', async () => {
    await assert.rejects(
      env.engine.loadImages(Readable.from(await ociArchive(await busyboxImage(), { corruptLayer: true }))),
      /layer sha256:[a-f0-9]+ is missing or does not match its digest/,
    )
    assert.deepEqual(await env.engine.listImages(), [])
  })

  it('refuses a docker archive whose layer does not match the diff ID of its config', async () => {
    const img = await busyboxImage()
    img.config = configFor([Buffer.from('something else')])
    await assert.rejects(env.engine.loadImages(Readable.from(await dockerArchive([img]))), /layer content does not match its diff ID/)
    assert.deepEqual(await env.engine.listImages(), [])
    assert.deepEqual(readdirSync(join(env.root, 'images/layers')), [])
  })

  it('refuses what is not an image archive', async () => {
    await assert.rejects(env.engine.loadImages(Readable.from(Buffer.from('hello, not a tar'.repeat(64)))), /cannot load the archive/)
    await assert.rejects(env.engine.loadImages(Readable.from(await tarOf([{ name: 'readme.txt', content: 'hi' }]))), /neither manifest\.json \(docker save\) nor index\.json/)
  })

  it('rejects malformed references with the reason', async () => {
    await assert.rejects(env.engine.inspectImage('Busybox'), /invalid image reference "Busybox": "Busybox" must be lower-case/)
    await assert.rejects(env.engine.inspectImage('busybox@sha256:xyz'), /"sha256:xyz" is not a digest/)
  })
})

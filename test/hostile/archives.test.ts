import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { busyboxImage, configFor, digest, dockerArchive, tarOf, type TarEntry } from '../support/images.js'
import { oneLine, Sandbox } from '../support/sandbox.js'

/**
 * Hostile `image load` archives against an engine root in a sandbox, with
 * another process's in-flight file in its tmp/ (`tmp/inflight`) and a host
 * file outside (`outside/secret`). Each must fail in one line and leave the
 * root as it found it.
 */
describe('hostile image archives', () => {
  let box: Sandbox
  let engine: EmbeddedEngine
  beforeEach(() => {
    box = new Sandbox()
    box.canary('root', 'tmp', 'inflight')
    box.canary('outside', 'secret')
    engine = new EmbeddedEngine({ root: box.path('root') })
  })
  afterEach(async () => {
    await engine.close()
    box.cleanup()
  })

  const load = (archive: Buffer | Readable) => engine.loadImages(Buffer.isBuffer(archive) ? Readable.from(archive) : archive)
  const nothingLoaded = async () => {
    assert.deepEqual(await engine.listImages(), [])
    assert.deepEqual(readdirSync(box.path('root', 'tmp')).sort(), ['inflight', 'inflight.d'])
    box.intact()
  }
  /** A docker save archive of one busybox image, with `manifest.json` replaced by `manifest` and `extra` entries added. */
  const withManifest = async (manifest: unknown, extra: TarEntry[] = []) => {
    const img = await busyboxImage()
    const configJson = JSON.stringify(img.config)
    return tarOf([{ name: `${digest(configJson).slice(7)}.json`, content: configJson }, ...extra, { name: 'manifest.json', content: JSON.stringify(manifest) }])
  }

  it('refuses a 700 MB manifest.json from its header, without reading it', async () => {
    const size = 700 * 1024 * 1024
    let pulled = 0
    async function* archive() {
      const pack = tar.pack()
      pack.entry({ name: 'manifest.json', size })
      const header = await new Promise<Buffer>((resolve) => pack.once('data', (data) => resolve(data as Buffer)))
      yield header
      for (const chunk = Buffer.alloc(1024 * 1024); pulled < size; pulled += chunk.length) yield chunk
    }
    await assert.rejects(load(Readable.from(archive())), oneLine(/cannot load the archive: manifest\.json is 734003200 bytes, more than the 4194304 pier reads for one JSON document/))
    assert.ok(pulled < 64 * 1024 * 1024, `read ${pulled} bytes of it`)
    await nothingLoaded()
  })

  for (const [what, manifest, error] of [
    ['an object instead of a list', { Config: 'x.json', Layers: [] }, /manifest\.json is an object, not a list of images/],
    ['null', null, /manifest\.json is null, not a list of images/],
    ['an image without Layers', [{ Config: 'x.json' }], /manifest\.json image 1: Layers is not a list of file names/],
    ['an image whose Config is a number', [{ Config: 1, Layers: [] }], /manifest\.json image 1 has no Config file name/],
    ['RepoTags that are not names', [{ Config: 'x.json', Layers: [], RepoTags: 'busybox' }], /RepoTags is not a list of names/],
  ] as [string, unknown, RegExp][]) {
    it(`refuses a manifest.json that is ${what}, in one line`, async () => {
      await assert.rejects(load(await withManifest(manifest)), oneLine(error))
      await nothingLoaded()
    })
  }

  it('refuses an index.json without a list of manifests, and a config of the wrong shape', async () => {
    await assert.rejects(load(await tarOf([{ name: 'index.json', content: '{"manifests": {"digest": "x"}}' }])), oneLine(/index\.json is not an image index/))
    await assert.rejects(load(await tarOf([{ name: 'index.json', content: '{"manifests": [42]}' }])), oneLine(/index\.json manifest 1 is not a descriptor/))
    const layer = (await busyboxImage()).layers[0]
    const config = JSON.stringify({ ...configFor([layer]), rootfs: { diff_ids: 'sha256:x' } })
    const configName = `${digest(config).slice(7)}.json`
    await assert.rejects(load(await withManifest([{ Config: configName, Layers: [] }], [{ name: configName, content: config }])), oneLine(/rootfs\.diff_ids is not a list of digests/))
    await nothingLoaded()
  })

  it('refuses a config blob over the JSON cap before reading it', async () => {
    const config = JSON.stringify({ ...configFor([]), padding: 'x'.repeat(5 * 1024 * 1024) })
    const configName = `${digest(config).slice(7)}.json`
    await assert.rejects(load(await withManifest([{ Config: configName, Layers: [] }], [{ name: configName, content: config }])), oneLine(/\.json is \d+ bytes, more than the 4194304/))
    await assert.deepEqual(await engine.listImages(), [])
  })

  it('refuses a layer whose whiteout names the layer\'s parent, the root\'s tmp/', async () => {
    const layer = await tarOf([{ name: 'bin', type: 'directory' }, { name: '.wh...', content: '' }])
    const archive = await dockerArchive([{ tags: ['hostile:latest'], layers: [layer], config: configFor([layer]) }])
    await assert.rejects(load(archive), oneLine(/refusing layer entry "\.wh\.\.\.": a whiteout that names no file/))
    await nothingLoaded()
  })

  it('refuses an archive cut anywhere, in one line, and leaves tmp/ as it was', async () => {
    const archive = await dockerArchive([await busyboxImage()])
    for (let cut = 100; cut < archive.length - 1024; cut += Math.floor(archive.length / 23)) {
      await assert.rejects(load(archive.subarray(0, cut)), oneLine(/cannot load the archive: it ends early \(truncated\?\)/), `cut at ${cut}`)
    }
    await nothingLoaded()
  })

  it('follows no archive link out of the archive', async () => {
    const archive = await withManifest([{ Config: 'cfg.json', Layers: [] }], [{ name: 'cfg.json', type: 'symlink', linkname: `../../../..${box.path('outside', 'secret')}` }])
    await assert.rejects(load(archive), oneLine(/its manifest names cfg\.json, which is not in the archive/))
    await nothingLoaded()
  })
})

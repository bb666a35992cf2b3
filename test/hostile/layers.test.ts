import assert from 'node:assert/strict'
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { extractLayer } from '../../src/engine/embedded/images/extract.js'
import { tarOf, type TarEntry } from '../support/images.js'
import { oneLine, Sandbox } from '../support/sandbox.js'

/**
 * Hostile image layers, unpacked where the layer store unpacks them: into a
 * directory of `$PIER_ROOT/tmp`, beside other processes' in-flight files
 * (the `inflight` canary), with a host file further out (`outside/secret`).
 */
describe('hostile layers', () => {
  let box: Sandbox
  let layer: string
  beforeEach(() => {
    box = new Sandbox()
    box.canary('tmp', 'inflight')
    box.canary('outside', 'secret')
    layer = box.mkdir('tmp', 'layer-1')
  })
  afterEach(() => box.cleanup())

  const extract = async (entries: TarEntry[] | Buffer) => extractLayer(Readable.from(Buffer.isBuffer(entries) ? entries : await tarOf(entries)), layer)
  const tmpHoldsOnly = (names: string[]) => assert.deepEqual(readdirSync(box.path('tmp')).sort(), names.sort())

  for (const name of ['.wh...', '.wh..', '.wh.', 'sub/.wh...', 'sub/.wh.']) {
    it(`refuses the whiteout "${name}", which names the layer or its parent`, async () => {
      await assert.rejects(extract([{ name: 'sub', type: 'directory' }, { name, content: '' }]), oneLine(/refusing layer entry ".*": a whiteout that names no file/))
      box.intact()
      tmpHoldsOnly(['inflight', 'inflight.d', 'layer-1'])
      assert.ok(lstatSync(layer).isDirectory())
    })
  }

  it('refuses whiteouts and opaque markers through a symlink', async () => {
    for (const entries of [
      [{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/.wh.inflight', content: '' }],
      [{ name: 'out', type: 'symlink', linkname: box.path('outside') }, { name: 'out/.wh.secret', content: '' }],
      [{ name: 'out', type: 'symlink', linkname: box.path('outside') }, { name: 'out/.wh..wh..opq', content: '' }],
    ] as TarEntry[][]) {
      await assert.rejects(extract(entries), oneLine(/a path through the symlink "(up|out)"/))
    }
    box.intact()
  })

  it('skips aufs metadata entries (.wh..wh.*) instead of whiting out their names', async () => {
    await extract([{ name: '.wh..wh.plnk', type: 'directory' }, { name: '.wh..wh.aufs', content: '' }, { name: 'kept', content: 'x' }])
    assert.deepEqual(readdirSync(layer), ['kept'])
  })

  it('sets no directory time through a directory later replaced by a symlink', async () => {
    await extract([
      { name: 'd', type: 'directory' },
      { name: 'd/secret.d', type: 'directory' },
      { name: 'd', type: 'symlink', linkname: box.path('outside') },
    ])
    box.intact()
  })

  it('refuses a name or link target with a NUL byte, in one line', async () => {
    // tar-stream ends a name at a NUL, so what arrives is the climb that followed it.
    await assert.rejects(extract([{ name: `long/${'x'.repeat(120)}\0/../../../outside/secret`, content: 'owned' }]), oneLine(/refusing layer entry "long\/x+\/\.\.\/\.\.\/\.\.\/outside\/secret": a path that climbs out/))
    await assert.rejects(extract([{ name: 'link', type: 'symlink', linkname: `${'x'.repeat(120)}\0` }]), oneLine(/refusing layer entry "link": a link target with a NUL byte/))
    box.intact()
  })

  it('takes a newline in a name as part of the name, and keeps error messages on one line', async () => {
    await extract([{ name: 'two\nlines', content: 'ok' }])
    assert.equal(readFileSync(`${layer}/two\nlines`, 'utf8'), 'ok')
    await assert.rejects(extract([{ name: 'a\n../../outside/secret', content: 'owned' }, { name: '../x\n', content: 'owned' }]), oneLine(/refusing layer entry "a\\n\.\.\/\.\.\/outside\/secret": a path that climbs out/))
    box.intact()
  })

  it('refuses a name longer than PATH_MAX, and a deep path the file system refuses, in one line', async () => {
    await assert.rejects(extract([{ name: 'a/'.repeat(3000) + 'f', content: 'x' }]), oneLine(/a name of 6001 bytes, longer than the 4095 Linux allows/))
    await assert.rejects(extract([{ name: `${'n'.repeat(300)}/f`, content: 'x' }]), oneLine(/a name longer than the file system allows/))
    // 2,000 levels fit in PATH_MAX by name, not once under the layer's own path: refused before any is made.
    await assert.rejects(extract([{ name: 'd/'.repeat(2040) + 'f', content: 'x' }]), oneLine(/a path of \d+ bytes once unpacked, longer than the 4095 Linux allows/))
    assert.deepEqual(readdirSync(layer), [])
    box.intact()
  })

  it('refuses a tar truncated in the middle of an entry, in one line', async () => {
    const whole = await tarOf([{ name: 'big', content: Buffer.alloc(64 * 1024, 1) }])
    await assert.rejects(extract(whole.subarray(0, 512 + 10_000)), oneLine(/the tar stream ends early \(truncated\?\)/))
    box.intact()
  })

  it('refuses hard links to entries not yet unpacked, to directories, and out of the layer', async () => {
    await assert.rejects(extract([{ name: 'h', type: 'link', linkname: 'later' }, { name: 'later', content: 'x' }]), oneLine(/a hard link to "later", which is not a file of this layer/))
    await assert.rejects(extract([{ name: 'd', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }]), oneLine(/not a file of this layer/))
    await assert.rejects(extract([{ name: 'h', type: 'link', linkname: '../inflight' }]), oneLine(/outside the layer/))
    await assert.rejects(extract([{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'h', type: 'link', linkname: 'up/inflight' }]), oneLine(/a path through the symlink "up"/))
    assert.ok(!existsSync(`${layer}/h`))
    box.intact()
  })
})

import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { engineWithBusybox } from '../support/containers.js'
import { tarOf } from '../support/images.js'
import { oneLine } from '../support/sandbox.js'

/** `pier image import` of hostile root filesystem tars: refused in one line, nothing kept, nothing written outside. */
describe('embedded engine: image import of hostile tars', function () {
  this.timeout(60_000)
  let env: Awaited<ReturnType<typeof engineWithBusybox>>
  before(async () => {
    env = await engineWithBusybox()
  })
  after(() => env.cleanup())

  const blobs = () => readdirSync(join(env.root, 'images', 'blobs', 'sha256')).sort()

  it('refuses entries that climb out or write through a link, and a -c change it cannot apply, keeping nothing', async () => {
    const before = { blobs: blobs(), images: (await env.engine.listImages()).length }
    const cases = [
      [{ name: '../escape', content: 'x' }],
      [{ name: 'out', type: 'symlink' as const, linkname: '/tmp' }, { name: 'out/planted', content: 'x' }],
    ]
    for (const entries of cases) await assert.rejects(env.engine.importImage(Readable.from(await tarOf(entries)), { tag: 'hostile:1' }), oneLine(/./))
    await assert.rejects(env.engine.importImage(Readable.from(await tarOf([{ name: 'f', content: 'x' }])), { changes: ['RUN true'] }), oneLine(/RUN cannot change an image here/))
    assert.deepEqual(blobs(), before.blobs, 'no blob left')
    assert.equal((await env.engine.listImages()).length, before.images)
    assert.deepEqual(readdirSync(join(env.root, 'tmp')), [])
    assert.equal(existsSync('/tmp/planted'), false, 'nothing written through the link')
  })
})

import assert from 'node:assert/strict'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildBench } from './build-support.js'

/**
 * The build cache is a root of the image store's collection: removing or
 * pruning the images a build made keeps the layers its cache entries point
 * at, so the next build still hits; `pruneBuildCache` (`pier builder
 * prune`) is what lets them go, with the RUN cache mounts.
 */
describe('embedded engine: the build cache as a root of collection', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
    writeFileSync(join(b.context, 'a.txt'), 'one\n')
  })
  after(() => b.cleanup())

  const dockerfile = `FROM busybox
COPY a.txt /a.txt
RUN --mount=type=cache,target=/cache echo kept > /cache/k && cat /a.txt > /copy
CMD ["cat", "/copy"]
`
  const cached = () => b.lines.filter((l) => / CACHED$/.test(l)).length
  const layerDirs = () => readdirSync(join(b.env.root, 'images', 'layers')).length

  it('rmi and image prune -a keep the layers the cache uses; a rebuild hits; builder prune frees them and the cache mounts', async () => {
    const built = await b.build(dockerfile, { tags: ['gc:1'] })
    const layersWithImage = layerDirs()
    await b.env.engine.removeImage('gc:1')
    assert.equal(await b.env.engine.inspectImage(built.id), undefined)
    assert.equal(layerDirs(), layersWithImage, 'the cache keeps its layers')

    const again = await b.build(dockerfile, { tags: ['gc:2'] })
    assert.equal(cached(), 3, b.lines.join('\n'))
    assert.equal(again.id, built.id)
    assert.deepEqual(await b.shell(again.id, 'cat /copy'), ['one'])

    const pruned = await b.env.engine.pruneImages({ all: true })
    assert.ok(pruned.deleted.includes(again.id))
    assert.equal(layerDirs(), layersWithImage - 1, "prune -a keeps the cache's two (COPY, RUN); busybox's own went with busybox")
    const mounts = join(b.env.root, 'images', 'build-cache', 'mounts')
    assert.ok(existsSync(mounts) && readdirSync(mounts).length > 0)

    const cleared = await b.env.engine.pruneBuildCache()
    assert.ok(cleared.entries >= 3, JSON.stringify(cleared))
    assert.ok(cleared.reclaimed > 0)
    assert.equal(layerDirs(), 0, 'nothing uses them any more (busybox went with prune -a)')
    assert.equal(existsSync(mounts), false)
    assert.deepEqual(await b.env.engine.pruneBuildCache(), { entries: 0, reclaimed: 0 })
  })
})

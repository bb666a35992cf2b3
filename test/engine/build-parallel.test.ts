import assert from 'node:assert/strict'
import { buildBench } from './build-support.js'

/**
 * Independent stages are built side by side: two stages that each sleep a
 * second, read by a last stage, take about one second, not two; a failing
 * stage fails the build with its own error once the others are done.
 */
describe('embedded engine: independent stages in parallel', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
  })
  after(() => b.cleanup())

  it('builds two independent stages at once; the last one reads both', async () => {
    const dockerfile = `FROM busybox AS left
RUN sleep 1.5 && echo left > /left
FROM busybox AS right
RUN sleep 1.5 && echo right > /right
FROM busybox
COPY --from=left /left /left
COPY --from=right /right /right
`
    const started = Date.now()
    const image = await b.build(dockerfile, { noCache: true })
    const took = Date.now() - started
    assert.ok(took < 2900, `took ${took} ms: the two 1.5 s stages did not overlap`)
    assert.deepEqual(await b.shell(image.id, 'cat /left /right'), ['left', 'right'])
    const numbers = b.lines.filter((l) => /^#\d+ \[/.test(l)).map((l) => Number(/^#(\d+)/.exec(l)![1]))
    assert.deepEqual([...numbers].sort((x, y) => x - y), numbers.map((_, n) => n + 1), 'each step its own number')
    // Cached: each CACHED line carries its own step's number.
    await b.build(dockerfile)
    const cachedNumbers = b.lines.filter((l) => / CACHED$/.test(l)).map((l) => Number(/^#(\d+)/.exec(l)![1]))
    assert.equal(new Set(cachedNumbers).size, cachedNumbers.length)
  })

  it('a failing stage fails the build with its error, after the other stage is done', async () => {
    const dockerfile = `FROM busybox AS bad
RUN exit 7
FROM busybox AS good
RUN sleep 0.5 && echo ok > /ok
FROM busybox
COPY --from=bad /etc/passwd /p
COPY --from=good /ok /ok
`
    await assert.rejects(b.build(dockerfile, { noCache: true }), /Dockerfile line 2: RUN exit 7 failed with exit code 7/)
  })
})

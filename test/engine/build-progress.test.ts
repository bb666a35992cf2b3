import assert from 'node:assert/strict'
import { buildBench } from './build-support.js'

describe('embedded engine: build progress as Compose shows it', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
  })
  after(() => b.cleanup())

  it('numbers steps #N [stage i/n] across stages and marks reused ones CACHED', async () => {
    const dockerfile = 'FROM busybox AS base\nRUN echo one > /one\nFROM base\nRUN echo two > /two\n'
    await b.build(dockerfile)
    const steps = () => b.lines.filter((l) => /^#\d+ /.test(l))
    assert.deepEqual(steps().slice(0, 4), ['#1 [base 1/2] FROM busybox AS base', '#2 [base 2/2] RUN echo one > /one', '#3 [stage-1 1/2] FROM base', '#4 [stage-1 2/2] RUN echo two > /two'])
    await b.build(dockerfile)
    assert.deepEqual(steps().slice(0, 6), ['#1 [base 1/2] FROM busybox AS base', '#2 [base 2/2] RUN echo one > /one', '#2 CACHED', '#3 [stage-1 1/2] FROM base', '#4 [stage-1 2/2] RUN echo two > /two', '#4 CACHED'])
  })

  it('on failure: the step\'s last output lines to the output, one error line with the exit code', async () => {
    const err = await b.build('FROM busybox\nRUN for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; done; exit 3\n').catch((e: Error) => e)
    assert.ok(err instanceof Error)
    assert.equal(err.message, 'Dockerfile line 2: RUN for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; done; exit 3 failed with exit code 3: line 12')
    const at = b.lines.findIndex((l) => l.startsWith('ERROR: process'))
    assert.match(b.lines[at], /did not complete successfully: exit code: 3$/)
    assert.equal(b.lines[at + 1].split('\n').length, 12, 'the last ten lines, boxed')
    assert.match(b.lines[at + 1], /^------\n > line 3\n/)
  })
})

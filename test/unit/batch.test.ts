import assert from 'node:assert/strict'
import { Batcher } from '../../src/network/batch.js'

describe('Batcher: items given while a batch runs share the next one', () => {
  it('runs a lone caller at once, then gathers what comes meanwhile into one run', async () => {
    const runs: number[][] = []
    let release!: () => void
    const batcher = new Batcher<number>(async (items) => {
      runs.push(items)
      if (runs.length === 1) await new Promise<void>((r) => (release = r))
    })
    const first = batcher.add([1])
    assert.deepEqual(runs, [[1]], 'the first caller does not wait for company')
    const later = [batcher.add([2, 3]), batcher.add([]), batcher.add([4])]
    release()
    await Promise.all([first, ...later])
    assert.deepEqual(runs, [[1], [2, 3, 4]])
    await batcher.add([5])
    assert.deepEqual(runs.at(-1), [5])
  })

  it('fails every caller of a failed batch, and runs the next batch regardless', async () => {
    let calls = 0
    const batcher = new Batcher<string>(async (items) => {
      calls++
      if (items.includes('bad')) throw new Error('batch failed')
    })
    const results = await Promise.allSettled([batcher.add(['bad']), batcher.add(['a']), batcher.add(['b'])])
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled'])
    assert.equal(calls, 2)
  })
})

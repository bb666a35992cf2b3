import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildBench } from './build-support.js'

/**
 * The build context's content hashes kept between builds by stat
 * (ContextSums in src/engine/embedded/build/cache.ts): an unchanged file is
 * not read again, and a file rewritten with the same size and its mtime
 * forced back is still seen as changed (its ctime moved).
 */
describe('embedded engine: context hashes kept by stat', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
  })
  after(() => b.cleanup())

  const dockerfile = 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\n'
  const cached = () => b.lines.filter((l) => / CACHED$/.test(l)).length
  const kept = () => {
    const dir = join(b.env.root, 'images', 'build-cache', 'context-sums')
    return readdirSync(dir).flatMap((f) => Object.keys(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>))
  }

  it('keeps a settled file\'s hash, and reads again a file rewritten with the same size and mtime', async () => {
    const file = join(b.context, 'a.txt')
    writeFileSync(file, 'one\n')
    // A file changed in the last 2 s is read again at every build, never kept: let it settle.
    await new Promise((r) => setTimeout(r, 2_200))
    await b.build(dockerfile)
    assert.deepEqual(kept(), [file], 'the settled file\'s hash is kept')
    await b.build(dockerfile)
    assert.equal(cached(), 2, b.lines.join('\n'))

    // Same size, mtime put back to the nanosecond: only the content and the ctime differ.
    const before = statSync(file, { bigint: true })
    execFileSync('touch', ['-r', file, join(b.context, 'times')])
    writeFileSync(file, 'two\n')
    execFileSync('touch', ['-r', join(b.context, 'times'), file])
    const after = statSync(file, { bigint: true })
    assert.equal(after.size, before.size)
    assert.equal(after.mtimeNs, before.mtimeNs)
    const image = await b.build(dockerfile)
    assert.equal(cached(), 0, b.lines.join('\n'))
    assert.deepEqual(await b.shell(image.id, 'cat /copy'), ['two'])
  })

  it('does not keep the hash of a file changed just before the build', async () => {
    const file = join(b.context, 'a.txt')
    writeFileSync(file, 'three\n')
    const image = await b.build(dockerfile)
    assert.equal(cached(), 0)
    assert.deepEqual(kept(), [], 'a file changed under 2 s ago is not kept')
    assert.deepEqual(await b.shell(image.id, 'cat /copy'), ['three'])
    await b.build(dockerfile)
    assert.equal(cached(), 2, 'read again, same content: cached')
  })
})

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildBench } from './build-support.js'

/**
 * What the build cache keeps between builds besides steps
 * (src/engine/embedded/build/cache.ts): the context's content hashes by
 * stat (an unchanged file is not read again; a file rewritten with the
 * same size and its mtime forced back is still seen as changed, as its
 * ctime moved), parsed Dockerfiles, and COPY --from content hashes.
 */
describe('embedded engine: what the build cache keeps between builds', function () {
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

  it('reads a cached parse back as parsed: an ARG with no default stays unset, not null', async () => {
    const args = 'FROM busybox\nARG X\nARG Y=why\nRUN echo "x=[$X] y=[$Y]" > /out\n'
    const first = await b.build(args)
    const again = await b.build(args)
    assert.equal(again.id, first.id)
    assert.deepEqual(await b.shell(again.id, 'cat /out'), ['x=[] y=[why]'])
    const given = await b.build(args, { args: { X: 'ex' } })
    assert.deepEqual(await b.shell(given.id, 'cat /out'), ['x=[ex] y=[why]'])
  })

  it('COPY --from sees a changed stage; an unchanged one is CACHED', async () => {
    const file = join(b.context, 'src.txt')
    const twoStage = 'FROM busybox AS make\nCOPY src.txt /src.txt\nRUN cat /src.txt /src.txt > /made\nFROM busybox\nCOPY --from=make /made /made\n'
    writeFileSync(file, 'one\n')
    await b.build(twoStage)
    await b.build(twoStage)
    assert.equal(cached(), 3, b.lines.join('\n'))
    writeFileSync(file, 'two\n')
    const image = await b.build(twoStage)
    assert.equal(cached(), 0, b.lines.join('\n'))
    assert.deepEqual(await b.shell(image.id, 'cat /made'), ['two', 'two'])
  })
})

import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startWatcher } from '../../src/watch/watcher.js'
import { inotifyWatches } from '../support/inotify.js'

/** The watcher alone: ignored directories cost no inotify watch; a burst is one batch; a chmod is seen. */
describe('watch: the file watcher', function () {
  this.timeout(20_000)
  const dir = mkdtempSync(join(tmpdir(), 'pier-watcher-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('puts no OS watch on a skipped directory (node_modules), however large', async () => {
    const root = join(dir, 'skip')
    for (let i = 0; i < 40; i++) {
      mkdirSync(join(root, 'node_modules', `dep${i}`, 'lib'), { recursive: true })
      writeFileSync(join(root, 'node_modules', `dep${i}`, 'lib', 'index.js'), '')
    }
    mkdirSync(join(root, 'src'))
    writeFileSync(join(root, 'src', 'a.ts'), '')
    const count = async (skip: boolean) => {
      const before = inotifyWatches()
      const w = startWatcher({ paths: [root], skip: (p, isDir) => skip && isDir && p.endsWith('/node_modules'), onBatch: () => undefined, onOverflow: () => undefined })
      await w.ready
      const added = inotifyWatches() - before
      await w.close()
      return added
    }
    const withSkip = await count(true)
    const without = await count(false)
    assert.ok(withSkip < 10, `${withSkip} watches with node_modules skipped`)
    assert.ok(without > withSkip + 80, `${without} watches without the skip, ${withSkip} with it`)
  })

  it('gathers a burst into one batch after 50 ms of quiet, and sees a chmod', async () => {
    const root = join(dir, 'burst')
    mkdirSync(root)
    writeFileSync(join(root, 'x.sh'), '')
    const batches: string[][] = []
    const w = startWatcher({ paths: [root], skip: () => false, onBatch: (b) => batches.push(b), onOverflow: () => undefined })
    await w.ready
    try {
      for (let i = 0; i < 20; i++) writeFileSync(join(root, `f${i}`), String(i))
      await new Promise((r) => setTimeout(r, 400))
      assert.equal(batches.length, 1, JSON.stringify(batches))
      assert.equal(batches[0].filter((p) => /\/f\d+$/.test(p)).length, 20)
      chmodSync(join(root, 'x.sh'), 0o755)
      await new Promise((r) => setTimeout(r, 300))
      assert.ok(batches.slice(1).flat().includes(join(root, 'x.sh')), `the chmod: ${JSON.stringify(batches.slice(1))}`)
    } finally {
      await w.close()
    }
  })
})

import assert from 'node:assert/strict'
import { defaultContainerSpec } from '../../src/engine/defaults.js'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { EngineError } from '../../src/engine/errors.js'
import { engineWithBusybox } from '../support/containers.js'

/**
 * The engine contract's `removePaths` (added for watch's deletes), on the
 * embedded driver. It belongs in test/engine/contract/suite.ts once that
 * file is free to change; it is here meanwhile.
 */
describe('engine: removePaths', function () {
  this.timeout(60_000)
  let engine: EmbeddedEngine
  let cleanup: () => Promise<void>
  before(async () => ({ engine, cleanup } = await engineWithBusybox()))
  after(async () => cleanup())

  it('removes files, directories with their content and links themselves, in a stopped container too, with no rm in the image', async () => {
    const c = await engine.createContainer({ ...defaultContainerSpec(`pier-rmpaths-${process.pid}`, 'busybox', ['sleep', '30']), stopGracePeriodMs: 0 })
    await engine.start(c.id)
    await engine.exec(c.id, { argv: ['sh', '-c', 'mkdir -p /d/sub /keep && echo x > /d/sub/f && echo y > /f && echo k > /keep/k && ln -s /keep /link'] })
    await engine.kill(c.id, 'KILL')
    await engine.wait(c.id)
    await engine.removePaths(c.id, ['/d', '/f', '/link', '/absent'])
    await engine.start(c.id)
    const r = await engine.exec(c.id, { argv: ['sh', '-c', 'for p in /d /f /link; do if test -e $p -o -L $p; then echo $p left; fi; done; cat /keep/k'] })
    assert.equal(r.stdout, 'k\n', 'all three gone; the link, not what it pointed at')
    await assert.rejects(engine.removePaths(c.id, ['relative']), (e: unknown) => e instanceof EngineError && e.code === 'invalid')
    await engine.remove(c.id, { force: true })
  })
})

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../support/helpers.js'

/**
 * examples/testing runs as a user's CI would run it: its tests import
 * 'pier' by name (the package's exports map), build their images, and must
 * pass under mocha and node:test, leaving nothing behind.
 */
describe('examples/testing, as a CI job runs it', function () {
  this.timeout(180_000)
  let root: string
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'pier-root-'))
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  const run = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { cwd: repoRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME, PIER_ROOT: root, PIER_NO_CACHE: '1' }, encoding: 'utf8' })

  it('passes under mocha', () => {
    const r = run([process.execPath, join(repoRoot, 'node_modules/mocha/bin/mocha.js'), '--no-config', '--timeout', '120000', 'examples/testing/app.mocha.test.mjs'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /3 passing/)
  })

  it('passes under node:test', () => {
    const r = run([process.execPath, '--test', 'examples/testing/app.node.test.mjs'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /# pass 1/)
  })

  it('left no container behind', async () => {
    const { EmbeddedEngine } = await import('../../src/engine/embedded/engine.js')
    const engine = new EmbeddedEngine({ root })
    assert.deepEqual(await engine.listContainers({}, { all: true }), [])
    assert.deepEqual(await engine.listNetworks({}), [])
    await engine.close()
  })
})

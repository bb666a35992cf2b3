import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../support/helpers.js'

/**
 * pier installs as a normal npm dependency: an exports map with types, the
 * compiled library, the CLI and the processes it starts (monitor, reaper),
 * and nothing of the tests or benches.
 */
describe('the npm package', () => {
  it('exports the library with its types', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
    assert.deepEqual(pkg.exports['.'], { types: './dist/src/index.d.ts', default: './dist/src/index.js' })
    assert.equal(pkg.bin.pier, 'bin/pier.js')
  })

  it('packs what runs, and no tests', function () {
    this.timeout(30_000)
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { files: { path: string }[] }[]
    const files = new Set(pack.files.map((f) => f.path))
    for (const needed of ['package.json', 'bin/pier.js', 'bin/package.json', 'dist/pier.cjs', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/compose/reaper-process.js', 'dist/src/engine/embedded/containers/monitor.js', 'dist/schemas/compose.validate.cjs']) {
      assert.ok(files.has(needed), `${needed} is packed`)
    }
    assert.deepEqual([...files].filter((f) => /^(dist\/)?(test|bench|fixtures)\//.test(f)), [])
    assert.ok(!files.has('dist/pier.cjs.cache'), "this machine's code cache is not packed")
  })
})

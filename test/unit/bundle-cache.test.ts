import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../support/helpers.js'

/**
 * bin/pier.js runs the bundle with V8's code cache beside it. V8 checks a
 * cache against the source's length only, so the cache must be keyed by the
 * bundle's content: a rebuilt bundle of the same length runs its new code.
 */
describe('the bundle and its code cache (bin/pier.js)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pier-bundle-'))
    mkdirSync(join(dir, 'bin'))
    mkdirSync(join(dir, 'dist'))
    copyFileSync(join(repoRoot, 'bin', 'pier.js'), join(dir, 'bin', 'pier.js'))
    copyFileSync(join(repoRoot, 'bin', 'package.json'), join(dir, 'bin', 'package.json'))
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const bundle = (word: string) => `exports.main = (argv) => { process.stdout.write('${word} ' + argv.slice(2).join(' ') + '\\n') }\n`
  const run = () => execFileSync(process.execPath, [join(dir, 'bin', 'pier.js'), 'ps'], { encoding: 'utf8' })

  it('writes the cache after a first run, keyed by the SHA-256 of the bundle, and a rebuilt bundle of the same length runs its new code', async () => {
    writeFileSync(join(dir, 'dist', 'pier.cjs'), bundle('AAA'))
    assert.equal(run(), 'AAA ps\n')
    const cache = join(dir, 'dist', 'pier.cjs.cache')
    assert.ok(existsSync(cache), 'the cache is written')
    const digest = createHash('sha256').update(readFileSync(join(dir, 'dist', 'pier.cjs'))).digest()
    assert.ok(readFileSync(cache).subarray(0, 32).equals(digest))
    assert.equal(run(), 'AAA ps\n', 'the cached run')
    writeFileSync(join(dir, 'dist', 'pier.cjs'), bundle('BBB'))
    assert.equal(run(), 'BBB ps\n', 'the same length, new code')
  })

  it('runs without a cache it cannot write', () => {
    writeFileSync(join(dir, 'dist', 'pier.cjs'), bundle('CCC'))
    mkdirSync(join(dir, 'dist', 'pier.cjs.cache'))
    assert.equal(run(), 'CCC ps\n')
  })
})

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { extractLayer } from '../../src/engine/embedded/images/extract.js'
import { tarOf, type TarEntry } from '../support/images.js'

/**
 * Hostile layers, built here, against a sandbox: `layer/` is where the layer
 * is unpacked and `outside/` holds a sentinel that no layer may touch.
 */
describe('layer extraction', () => {
  let sandbox: string
  let layer: string
  let outside: string
  beforeEach(() => {
    sandbox = mkdtempSync(join(tmpdir(), 'pier-extract-'))
    layer = join(sandbox, 'layer')
    outside = join(sandbox, 'outside')
    mkdirSync(layer)
    mkdirSync(outside)
    writeFileSync(join(outside, 'sentinel'), 'untouched')
  })
  afterEach(() => rmSync(sandbox, { recursive: true, force: true }))

  const extract = async (entries: TarEntry[]) => extractLayer(Readable.from(await tarOf(entries)), layer)
  const outsideIntact = () => {
    assert.deepEqual(readdirSync(outside), ['sentinel'])
    assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), 'untouched')
  }

  it('unpacks files, directories, symlinks, hard links, modes and owners', async () => {
    const result = await extract([
      { name: 'usr/bin', type: 'directory' },
      { name: 'usr/bin/tool', content: 'x', mode: 0o4755, uid: 1000, gid: 1000 },
      { name: 'usr/bin/alias', type: 'symlink', linkname: 'tool' },
      { name: 'usr/bin/hard', type: 'link', linkname: 'usr/bin/tool' },
      { name: 'abs-link', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'dev/null', type: 'character-device' },
      { name: 'run/pipe', type: 'fifo' },
    ])
    const tool = statSync(join(layer, 'usr/bin/tool'))
    assert.equal(tool.mode & 0o7777, 0o4755)
    assert.deepEqual([tool.uid, tool.gid], [1000, 1000])
    assert.equal(readlinkSync(join(layer, 'usr/bin/alias')), 'tool')
    assert.equal(statSync(join(layer, 'usr/bin/hard')).ino, tool.ino)
    assert.equal(readlinkSync(join(layer, 'abs-link')), '/etc/passwd', 'symlinks are kept as written, never followed')
    assert.ok(lstatSync(join(layer, 'run/pipe')).isFIFO())
    assert.equal(result.skippedDevices, 1)
  })

  it('turns whiteouts into overlayfs whiteouts and opaque directories', async () => {
    await extract([
      { name: 'etc', type: 'directory' },
      { name: 'etc/.wh.removed.conf', content: '' },
      { name: 'var/cache', type: 'directory' },
      { name: 'var/cache/.wh..wh..opq', content: '' },
    ])
    const whiteout = lstatSync(join(layer, 'etc/removed.conf'))
    assert.ok(whiteout.isCharacterDevice())
    assert.equal(whiteout.rdev, 0)
    assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(layer, 'var/cache')], { encoding: 'utf8' }), 'y')
    assert.ok(!readdirSync(join(layer, 'var/cache')).includes('.wh..wh..opq'))
  })

  it('refuses an entry that climbs out with ..', async () => {
    await assert.rejects(extract([{ name: '../outside/sentinel', content: 'owned' }]), /refusing layer entry "\.\.\/outside\/sentinel": a path that climbs out of the layer/)
    await assert.rejects(extract([{ name: 'a/../../outside/x', content: 'owned' }]), /climbs out/)
    outsideIntact()
  })

  it('keeps an absolute path inside the layer', async () => {
    await extract([{ name: `/${outside.slice(1)}/sentinel`, content: 'contained' }])
    outsideIntact()
    assert.equal(readFileSync(join(layer, outside, 'sentinel'), 'utf8'), 'contained')
  })

  it('never writes through a symlink, absolute or relative', async () => {
    await assert.rejects(
      extract([{ name: 'escape', type: 'symlink', linkname: outside }, { name: 'escape/sentinel', content: 'owned' }]),
      /refusing layer entry "escape": a path through the symlink "escape"/,
    )
    rmSync(layer, { recursive: true })
    mkdirSync(layer)
    await assert.rejects(
      extract([{ name: 'up', type: 'symlink', linkname: '../outside' }, { name: 'up/new', content: 'owned' }]),
      /a path through the symlink "up"/,
    )
    outsideIntact()
  })

  it('replaces a symlink with a file instead of writing through it', async () => {
    await extract([
      { name: 'victim', type: 'symlink', linkname: join(outside, 'sentinel') },
      { name: 'victim', content: 'replaced' },
    ])
    assert.ok(lstatSync(join(layer, 'victim')).isFile())
    assert.equal(readFileSync(join(layer, 'victim'), 'utf8'), 'replaced')
    outsideIntact()
  })

  it('refuses hard links to anything outside the layer', async () => {
    await assert.rejects(extract([{ name: 'h', type: 'link', linkname: '../outside/sentinel' }]), /refusing layer entry "h": a hard link to "\.\.\/outside\/sentinel", outside the layer/)
    await assert.rejects(extract([{ name: 'h', type: 'link', linkname: `${outside}/sentinel` }]), /which is not a file of this layer/)
    await assert.rejects(
      extract([{ name: 'dir', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 'dir/sentinel' }]),
      /a path through the symlink "dir"/,
    )
    outsideIntact()
  })
})

import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { lexicalInside, resolveInMounts, resolveInRoot } from '../../src/engine/embedded/fs/resolve.js'
import { Sandbox } from '../support/sandbox.js'

/** resolveInRoot: openat2 RESOLVE_IN_ROOT semantics in a tree under `root`. */
describe('resolving a path inside a root', () => {
  let box: Sandbox
  let root: string
  beforeEach(() => {
    box = new Sandbox()
    root = box.mkdir('root')
    mkdirSync(`${root}/etc`)
    writeFileSync(`${root}/etc/passwd`, 'inside')
    symlinkSync('/etc', `${root}/abs`)
    symlinkSync('../../../../etc', `${root}/etc/climb`)
    symlinkSync('loop-b', `${root}/loop-a`)
    symlinkSync('loop-a', `${root}/loop-b`)
  })
  afterEach(() => box.cleanup())

  it('starts absolute links again at the root and stops .. there', async () => {
    assert.equal(await resolveInRoot(root, '/abs/passwd'), `${root}/etc/passwd`)
    assert.equal(await resolveInRoot(root, 'etc/climb/passwd'), `${root}/etc/passwd`)
    assert.equal(await resolveInRoot(root, '../../..'), root)
    assert.equal(await resolveInRoot(root, '/missing/../etc/new'), `${root}/etc/new`)
  })

  it('names a last-component link itself when asked, and refuses loops in one line', async () => {
    assert.equal(await resolveInRoot(root, '/abs', { followLast: false }), `${root}/abs`)
    assert.equal(await resolveInRoot(root, '/abs'), `${root}/etc`)
    await assert.rejects(resolveInRoot(root, '/loop-a/x', { what: 'the build context' }), /too many levels of symbolic links in \/loop-a\/x in the build context/)
  })

  it('looks each step up on the mount with the longest target, links crossing mounts in the tree\'s terms', async () => {
    const vol = box.mkdir('vol')
    symlinkSync('/etc/passwd', `${vol}/to-root`)
    const mounts = [{ target: '/data', source: vol }, { target: '/data/inner', source: box.mkdir('inner') }]
    assert.deepEqual(await resolveInMounts(root, mounts, '/data/x'), { host: `${vol}/x`, path: '/data/x', mount: mounts[0] })
    assert.deepEqual(await resolveInMounts(root, mounts, '/data/inner/y'), { host: `${box.path('inner')}/y`, path: '/data/inner/y', mount: mounts[1] })
    assert.deepEqual(await resolveInMounts(root, mounts, '/data/to-root'), { host: `${root}/etc/passwd`, path: '/etc/passwd', mount: undefined })
  })

  it('takes a path lexically inside its start, or says it climbs out', () => {
    assert.equal(lexicalInside('/a/./b/../c/'), 'a/c')
    assert.equal(lexicalInside('a/../../b'), undefined)
    assert.equal(lexicalInside('.'), '')
  })
})

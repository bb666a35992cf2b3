import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { copyFrom, copyTo } from '../../src/engine/embedded/containers/copy.js'
import { unpackInto } from '../../src/engine/tar.js'
import { engineWithBusybox, specFor } from '../support/containers.js'
import { tarOf, type TarEntry } from '../support/images.js'
import { oneLine, Sandbox } from '../support/sandbox.js'

/**
 * Hostile `pier cp` input against a container laid out as the engine lays
 * one out: `bundle/config.json` beside `bundle/rootfs`, which a copy into the
 * container must never reach, and a host file further out.
 */
describe('hostile cp', () => {
  let box: Sandbox
  let rootfs: string
  beforeEach(() => {
    box = new Sandbox()
    box.canary('bundle', 'config.json')
    box.canary('outside', 'secret')
    rootfs = box.mkdir('bundle', 'rootfs')
    box.mkdir('bundle', 'rootfs', 'etc')
    symlinkSync('/', `${rootfs}/root-link`)
    symlinkSync('../../..', `${rootfs}/etc/up`)
    symlinkSync(box.path('outside'), `${rootfs}/host-link`)
  })
  afterEach(() => box.cleanup())

  const copy = async (dir: string, entries: TarEntry[]) => copyTo(rootfs, dir, Readable.from(await tarOf(entries)))

  it('takes .wh. names as plain files, as docker cp does, and deletes nothing', async () => {
    await copy('/', [{ name: '.wh...', content: 'a' }, { name: '.wh.', content: 'b' }, { name: '.wh.etc', content: 'c' }, { name: '.wh..wh..opq', content: 'd' }])
    assert.deepEqual(readdirSync(rootfs).sort(), ['.wh.', '.wh...', '.wh..wh..opq', '.wh.etc', 'etc', 'host-link', 'root-link'])
    box.intact()
  })

  it('resolves the destination inside the container: links to /, .. and host paths stay in its root', async () => {
    for (const dir of ['/root-link', '/etc/up', '/../..', '/etc/up/etc/up/root-link']) await copy(dir, [{ name: `via-${dir.replaceAll('/', '_')}`, content: 'x' }])
    assert.deepEqual(readdirSync(rootfs).filter((n) => n.startsWith('via-')).length, 4)
    await assert.rejects(copy('/host-link', [{ name: 'secret', content: 'owned' }]), oneLine(/no such directory in the container: \/host-link/))
    box.intact()
  })

  it('reads a path through links inside the container, never the host file they name', async () => {
    writeFileSync(`${rootfs}/etc/secret`, 'the container\'s')
    await assert.rejects(copyFrom(rootfs, '/host-link/secret'), oneLine(/no such file or directory in the container/))
    symlinkSync('/etc', `${rootfs}/etc-link`)
    const tar = await copyFrom(rootfs, '/etc-link/secret')
    const chunks: Buffer[] = []
    for await (const c of tar) chunks.push(c as Buffer)
    assert.match(Buffer.concat(chunks).toString('latin1'), /the container's/)
  })

  it('unpacks on the host side without whiteouts either', async () => {
    const into = box.mkdir('host-dir')
    writeFileSync(`${into}/keep`, 'kept')
    await unpackInto(into, Readable.from(await tarOf([{ name: '.wh.keep', content: '' }, { name: '.wh...', content: '' }])))
    assert.equal(readFileSync(`${into}/keep`, 'utf8'), 'kept')
    box.intact()
  })

  describe('on the engine', function () {
    this.timeout(60_000)
    let env: Awaited<ReturnType<typeof engineWithBusybox>>
    before(async () => {
      env = await engineWithBusybox()
    })
    after(() => env.cleanup())

    it('cp - svc:/ of .wh... leaves the container\'s bundle (config.json) alone', async () => {
      const c = await env.engine.createContainer(specFor('cp-wh', ['true']))
      await env.engine.start(c.id)
      await env.engine.wait(c.id)
      const config = join(env.root, 'containers', c.id, 'bundle', 'config.json')
      assert.ok(existsSync(config))
      await env.engine.copyTo(c.id, '/', Readable.from(await tarOf([{ name: '.wh...', content: 'plain' }, { name: '.wh.etc', content: 'plain' }])))
      assert.ok(existsSync(config), 'config.json was deleted')
      let text = ''
      for await (const chunk of await env.engine.copyFrom(c.id, '/etc/passwd')) text += chunk
      assert.match(text, /root:x:0:0/, 'the container\'s /etc is still there')
      await env.engine.remove(c.id)
    })
  })
})

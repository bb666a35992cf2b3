import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import { copyFrom, copyTo, type CopyMount } from '../../src/engine/embedded/containers/copy.js'
import { engineWithBusybox, specFor } from '../support/containers.js'
import { tarOf } from '../support/images.js'
import { Sandbox } from '../support/sandbox.js'

/** The names and contents of the files of a tar stream. */
async function filesOf(stream: NodeJS.ReadableStream): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const extract = tar.extract()
  ;(stream as Readable).pipe(extract)
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const c of entry) chunks.push(c as Buffer)
    if (entry.header.type === 'file') out[entry.header.name] = Buffer.concat(chunks).toString()
  }
  return out
}

describe('cp sees the container\'s mounts', () => {
  describe('resolving against a mount table', () => {
    let box: Sandbox
    let rootfs: string
    let mounts: CopyMount[]
    beforeEach(() => {
      box = new Sandbox()
      rootfs = box.mkdir('rootfs')
      mkdirSync(`${rootfs}/data`)
      mkdirSync(`${rootfs}/data/cache`)
      mounts = [
        { type: 'volume', target: '/data', source: box.mkdir('volume'), readOnly: false },
        { type: 'bind', target: '/data/cache', source: box.mkdir('cache'), readOnly: false },
        { type: 'bind', target: '/config', source: box.mkdir('config'), readOnly: true },
        { type: 'file', target: '/run/secrets/token', source: box.path('token'), readOnly: true },
        { type: 'tmpfs', target: '/scratch', source: '', readOnly: false },
      ]
      writeFileSync(box.path('token'), 's3cret')
      writeFileSync(box.path('config', 'app.conf'), 'conf')
    })
    afterEach(() => box.cleanup())

    const copy = async (dir: string, name: string) => copyTo(rootfs, dir, Readable.from(await tarOf([{ name, content: name }])), mounts)

    it('writes into the mount with the longest target that holds the destination', async () => {
      await copy('/data', 'a')
      await copy('/data/cache', 'b')
      assert.equal(readFileSync(box.path('volume', 'a'), 'utf8'), 'a')
      assert.equal(readFileSync(box.path('cache', 'b'), 'utf8'), 'b')
      assert.ok(!existsSync(`${rootfs}/data/a`) && !existsSync(`${rootfs}/data/cache/b`))
    })

    it('reads files from binds and secrets, through links in the container too', async () => {
      symlinkSync('/config/app.conf', `${rootfs}/conf-link`)
      assert.deepEqual(await filesOf(await copyFrom(rootfs, '/config/app.conf', undefined, mounts)), { 'app.conf': 'conf' })
      assert.deepEqual(await filesOf(await copyFrom(rootfs, '/conf-link', undefined, mounts)), { 'conf-link': 'conf' })
      assert.deepEqual(await filesOf(await copyFrom(rootfs, '/run/secrets/token', undefined, mounts)), { token: 's3cret' })
    })

    it('packs a directory with the mounts below it, as the container sees it', async () => {
      mkdirSync(box.path('volume', 'cache'))
      writeFileSync(box.path('volume', 'v'), 'in volume')
      writeFileSync(box.path('cache', 'c'), 'in cache')
      writeFileSync(`${rootfs}/data/hidden`, 'under the mount')
      assert.deepEqual(await filesOf(await copyFrom(rootfs, '/data', undefined, mounts)), { 'data/v': 'in volume', 'data/cache/c': 'in cache' })
    })

    it('refuses read-only mounts, tmpfs, and entries that would fall on a mount below the destination', async () => {
      await assert.rejects(copy('/config', 'x'), /\/config is on the read-only bind mount at \/config: pier cp cannot write there/)
      await assert.rejects(copy('/run/secrets/token', 'x'), /read-only file mount at \/run\/secrets\/token/)
      await assert.rejects(copy('/scratch', 'x'), /\/scratch is on the tmpfs mount at \/scratch, which lives only inside the running container/)
      mkdirSync(`${rootfs}/run/secrets`, { recursive: true })
      await assert.rejects(copy('/run/secrets', 'token'), /\/run\/secrets\/token is on the file mount at \/run\/secrets\/token, below the destination \/run\/secrets/)
      await assert.rejects(copy('/', 'data/x'), /\/data\/x is on the volume mount at \/data, below the destination \/: copy into \/data itself/)
      assert.equal(readFileSync(box.path('token'), 'utf8'), 's3cret')
      assert.ok(!existsSync(`${rootfs}/data/x`) && !existsSync(`${rootfs}/run/secrets/token`))
    })
  })

  describe('on the engine', function () {
    this.timeout(60_000)
    let env: Awaited<ReturnType<typeof engineWithBusybox>>
    let box: Sandbox
    before(async () => {
      env = await engineWithBusybox()
      box = new Sandbox()
    })
    after(async () => {
      await env.cleanup()
      box.cleanup()
    })

    it('copies into a named volume and out of a bind mount, as docker cp does', async () => {
      const volume = await env.engine.createVolume({ name: 'cp-data', labels: {} })
      writeFileSync(box.path('from-host'), 'bound')
      const c = await env.engine.createContainer(
        specFor('cp-mounts', ['true'], {
          mounts: [
            { type: 'volume', source: 'cp-data', target: '/data', readOnly: false },
            { type: 'bind', source: box.dir, target: '/host', readOnly: true, createHostPath: false },
          ],
        }),
      )
      await env.engine.copyTo(c.id, '/data', Readable.from(await tarOf([{ name: 'in-volume', content: 'copied' }])))
      assert.equal(readFileSync(`${volume.mountpoint}/in-volume`, 'utf8'), 'copied')
      assert.deepEqual(await filesOf(await env.engine.copyFrom(c.id, '/host/from-host')), { 'from-host': 'bound' })
      await assert.rejects(env.engine.copyTo(c.id, '/host', Readable.from(await tarOf([{ name: 'x', content: 'x' }]))), /read-only bind mount at \/host/)
    })
  })
})

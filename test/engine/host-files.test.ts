import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import type { ContainerSpec } from '../../src/engine/engine.js'
import { engineWithBusybox, specFor } from '../support/containers.js'
import { busyboxLayer, configFor, dockerArchive, tarOf, type TarEntry } from '../support/images.js'

/**
 * Issue 14: pier reads and copies files of a container's filesystem on the
 * host. A link in the image or made by the container must resolve inside
 * the container, never to a host file.
 */
describe('embedded engine: host files stay out of containers', function () {
  this.timeout(60_000)
  let engine: EmbeddedEngine
  let cleanup: () => Promise<void>
  let root: string
  let canaryDir: string
  const canary = 'CANARY-host-secret-' + process.pid
  beforeEach(async () => {
    ;({ engine, root, cleanup } = await engineWithBusybox())
    canaryDir = mkdtempSync(join(tmpdir(), 'pier-canary-'))
    writeFileSync(join(canaryDir, 'secret'), `${canary}\nevil:x:4444:4444::/evil:/bin/sh\n`)
  })
  afterEach(async () => {
    try {
      await cleanup()
    } finally {
      rmSync(canaryDir, { recursive: true, force: true })
    }
  })

  /** Loads busybox with `extra` on top, as image `tag`. */
  async function imageWith(tag: string, extra: TarEntry[]): Promise<string> {
    const layers = [await busyboxLayer(), await tarOf(extra)]
    const [image] = await engine.loadImages(Readable.from(await dockerArchive([{ tags: [tag], layers, config: configFor(layers) }])))
    return image.id
  }

  async function output(name: string, image: string, script: string, overrides: Partial<ContainerSpec> = {}): Promise<string> {
    const c = await engine.createContainer({ ...specFor(name, ['sh', '-c', script], overrides), image })
    await engine.start(c.id)
    await engine.wait(c.id)
    const out: string[] = []
    for await (const l of engine.logs(c.id)) out.push(l.text)
    return out.join('\n')
  }

  it('an image /etc/host.conf or /etc/passwd linked to a host file never brings that file in', async () => {
    const secret = join(canaryDir, 'secret')
    const image = await imageWith('linked:etc', [
      { name: 'etc/host.conf', type: 'symlink', linkname: secret },
      { name: 'etc/passwd', type: 'symlink', linkname: `../../../../../../..${secret}` },
    ])
    const net = `hf${process.pid}`
    await engine.createNetwork({ name: net, internal: false, enableIpv6: false, labels: {} })
    const text = await output('hf-hostconf', image, `cat /etc/host.conf ${secret}`, { networkMode: 'bridge', networks: [{ network: net, aliases: [] }] })
    assert.ok(!text.includes(canary), 'the host file is in the container')
    // What pier made of the image's file (runc mounts it where the link leads, inside the container).
    const id = (await engine.inspectContainer('hf-hostconf'))!.id
    assert.equal(readFileSync(join(root, 'containers', id, 'etc', 'host.conf'), 'utf8'), 'multi on\n')
    // The user is looked up in the image's passwd, which leads nowhere inside the image: evil is unknown.
    await assert.rejects(output('hf-passwd', image, 'id -u', { user: 'evil' }), /unable to find user evil/)
  })

  it('a container that re-links /etc/passwd to a host file does not make exec read it', async () => {
    const c = await engine.createContainer(specFor('hf-relink', ['sh', '-c', `rm /etc/passwd; ln -s ${join(canaryDir, 'secret')} /etc/passwd; sleep 1000`]))
    await engine.start(c.id)
    await new Promise((r) => setTimeout(r, 300))
    await assert.rejects(engine.exec(c.id, { argv: ['id'], user: 'evil' }), /unable to find user evil/)
  })

  it('fills a new volume from the image without leaving the root filesystem (a link to /etc, or ..)', async () => {
    const image = await imageWith('linked:data', [{ name: 'data', type: 'symlink', linkname: '/etc' }])
    await engine.createVolume({ name: 'hf-linked', labels: {} })
    await engine.createVolume({ name: 'hf-dotdot', labels: {} })
    await output('hf-fill', image, 'true', {
      mounts: [
        { type: 'volume', source: 'hf-linked', target: '/data', readOnly: false },
        { type: 'volume', source: 'hf-dotdot', target: '/../../../../../../../../etc', readOnly: false },
      ],
    })
    assert.ok(existsSync('/etc/debian_version'), 'the host has a file the image lacks')
    for (const name of ['hf-linked', 'hf-dotdot']) {
      const files = readdirSync((await engine.listVolumes({})).find((v) => v.name === name)!.mountpoint)
      assert.ok(!files.includes('debian_version'), `the host's /etc was copied into ${name}`)
      assert.ok(files.includes('group'), `${name} took the image's /etc`)
    }
    await engine.remove('hf-fill')
    await engine.removeVolume('hf-linked')
    await engine.removeVolume('hf-dotdot')
  })

  it("a new volume takes the owner and mode of the image's directory, even an empty one", async () => {
    const image = await imageWith('owned:dir', [{ name: 'var', type: 'directory' }, { name: 'var/lib', type: 'directory' }, { name: 'var/lib/pg', type: 'directory', uid: 70, gid: 70, mode: 0o700 }])
    await engine.createVolume({ name: 'hf-owned', labels: {} })
    await output('hf-owner', image, 'true', { mounts: [{ type: 'volume', source: 'hf-owned', target: '/var/lib/pg', readOnly: false }] })
    const info = statSync((await engine.listVolumes({})).find((v) => v.name === 'hf-owned')!.mountpoint)
    assert.deepEqual([info.uid, info.gid, (info.mode & 0o7777).toString(8)], [70, 70, '700'])
    await engine.remove('hf-owner')
    await engine.removeVolume('hf-owned')
  })
})

import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import type { ContainerSpec } from '../../src/engine/engine.js'
import { engineWithBusybox, specFor } from '../support/containers.js'

/** The fields of a ContainerSpec the embedded engine came to honour with the total contract. */
describe('embedded engine: volumes_from, ipc, pid, group_add, cgroup limits', function () {
  this.timeout(60_000)
  let engine: EmbeddedEngine
  let cleanup: () => Promise<void>
  beforeEach(async () => {
    ;({ engine, cleanup } = await engineWithBusybox())
  })
  afterEach(async () => {
    await cleanup()
  })

  /** Runs `script` in a new container to its end; its output and exit code. */
  async function run(name: string, script: string, overrides: Partial<ContainerSpec> = {}): Promise<{ code: number; out: string }> {
    const c = await engine.createContainer(specFor(name, ['sh', '-c', script], overrides))
    await engine.start(c.id)
    const code = await engine.wait(c.id)
    const out: string[] = []
    for await (const l of engine.logs(c.id)) out.push(l.text)
    return { code, out: out.join('\n') }
  }

  async function daemon(name: string, overrides: Partial<ContainerSpec> = {}, script = 'sleep 1000'): Promise<string> {
    const c = await engine.createContainer(specFor(name, ['sh', '-c', script], overrides))
    await engine.start(c.id)
    return c.id
  }

  it('declares only the fields it still does not honour', () => {
    const declared = Object.keys(engine.capabilities.fields).filter((f) => f !== 'limits.blkio')
    assert.deepEqual(declared.sort(), ['gpus', 'logging', 'storageOpt', 'usernsMode'])
  })

  it('volumes_from mounts the donor volumes at the same targets, read-only with :ro, and names a missing donor', async () => {
    await engine.createVolume({ name: 'tf-shared', labels: {} })
    const donor = await run('tf-donor', 'echo from-donor > /data/file', { mounts: [{ type: 'volume', source: 'tf-shared', target: '/data', readOnly: false }, { type: 'volume', source: '', target: '/anon', readOnly: false }] })
    assert.equal(donor.code, 0)
    const reader = await run('tf-reader', 'cat /data/file && echo more >> /data/file && echo wrote', { volumesFrom: ['tf-donor'] })
    assert.deepEqual([reader.code, reader.out], [0, 'from-donor\nwrote'])
    const ro = await run('tf-ro', 'cat /data/file; (echo x > /data/other) 2>/dev/null || echo refused', { volumesFrom: ['container:tf-donor:ro'] })
    assert.deepEqual(ro.out.split('\n').at(-1), 'refused')
    const mounts = (await engine.inspectContainer('tf-ro'))!.mounts
    assert.deepEqual(mounts.map((m) => [m.target, m.readOnly, !!m.anonymous]).sort(), [['/anon', true, false], ['/data', true, false]])
    await assert.rejects(engine.createContainer(specFor('tf-orphan', ['true'], { volumesFrom: ['tf-nobody'] })), (err: Error & { code?: string }) => err.code === 'not-found' && /volumes_from tf-nobody: no such container/.test(err.message))
    // The donor's anonymous volume is the donor's: removing a borrower with its volumes keeps it.
    const anon = (await engine.inspectContainer('tf-donor'))!.mounts.find((m) => m.anonymous)!.source
    await engine.remove('tf-ro', { volumes: true })
    assert.ok((await engine.listVolumes({})).some((v) => v.name === anon))
    for (const c of ['tf-reader', 'tf-donor']) await engine.remove(c, { volumes: true })
    assert.ok(!(await engine.listVolumes({})).some((v) => v.name === anon))
    await engine.removeVolume('tf-shared')
  })

  it('pid: host sees the host processes; pid: container:X sees X as its PID 1', async () => {
    const hostInit = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean).join(' ')
    // A pipeline, so that sh stays (it would exec a single command): PID 1's command line, spaced.
    const init = "cat /proc/1/cmdline | tr '\\0' ' '"
    const host = await run('tf-pidhost', init, { pid: 'host' })
    assert.equal(host.out.trim(), hostInit)
    const own = await run('tf-pidown', init)
    assert.match(own.out, /^sh -c cat \/proc\/1\/cmdline/)
    await daemon('tf-pidtarget', {}, 'sleep 1001')
    const joined = await run('tf-pidjoin', init, { pid: 'container:tf-pidtarget' })
    assert.match(joined.out, /sleep 1001/)
  })

  it('ipc: container:X shares X namespace and /dev/shm when X is shareable; host shares the host namespace', async () => {
    await daemon('tf-ipcowner', { ipc: 'shareable' }, 'echo hello > /dev/shm/marker; sleep 1000')
    await new Promise((r) => setTimeout(r, 300))
    const joined = await run('tf-ipcjoin', 'cat /dev/shm/marker; ls -l /proc/1/ns/ipc /proc/self/ns/ipc', { ipc: 'container:tf-ipcowner' })
    const [marker, ...links] = joined.out.split('\n')
    assert.equal(marker, 'hello')
    const owner = await engine.exec('tf-ipcowner', { argv: ['ls', '-l', '/proc/1/ns/ipc'] })
    const ns = (line: string) => /ipc:\[\d+\]/.exec(line)?.[0]
    assert.equal(ns(links[0]), ns(owner.stdout!))
    const priv = await run('tf-ipcpriv', 'cat /dev/shm/marker 2>/dev/null || echo none; ls -l /proc/self/ns/ipc')
    assert.equal(priv.out.split('\n')[0], 'none')
    assert.notEqual(ns(priv.out.split('\n')[1]), ns(owner.stdout!))
    const host = await run('tf-ipchost', 'ls -l /proc/self/ns/ipc', { ipc: 'host' })
    assert.equal(ns(host.out), readlinkSync('/proc/self/ns/ipc'))
  })

  it('group_add adds groups by name and number, to the process and to exec', async () => {
    const r = await run('tf-groups', 'id -G', { user: 'app', groupAdd: ['nogroup', '4242'] })
    assert.deepEqual(r.out.trim().split(' ').sort(), ['1000', '4242', '65534'])
    await daemon('tf-groupexec', { groupAdd: ['4243'] })
    assert.equal((await engine.exec('tf-groupexec', { argv: ['id', '-G'] })).stdout!.trim(), '0 4243')
    await assert.rejects(run('tf-badgroup', 'id -G', { groupAdd: ['no-such-group'] }), /group_add: unable to find group no-such-group/)
  })

  it('applies mem_swappiness, oom_kill_disable, blkio rates and cgroup_parent to the cgroup', async () => {
    const id = await daemon('tf-cgroup', { limits: { memory: 64 * 1024 * 1024, memSwappiness: 17, oomKillDisable: true } })
    const memory = `/sys/fs/cgroup/memory/pier/${id}`
    assert.equal(readFileSync(`${memory}/memory.swappiness`, 'utf8').trim(), '17')
    assert.match(readFileSync(`${memory}/memory.oom_control`, 'utf8'), /oom_kill_disable 1/)
    // blkio rates apply; a weight, on a host without a scheduler that weighs cgroups, is dropped rather than failing the start.
    const throttled = await daemon('tf-blkio', { limits: { blkio: { weight: 300, readBps: [{ path: '/dev/loop0', rate: 1048576 }] } } })
    assert.match(readFileSync(`/sys/fs/cgroup/blkio/pier/${throttled}/blkio.throttle.read_bps_device`, 'utf8'), /^7:0 1048576/)
    const parent = `pier-test-parent-${process.pid}`
    try {
      const other = await daemon('tf-parent', { cgroupParent: parent })
      assert.ok(existsSync(`/sys/fs/cgroup/memory/${parent}/${other}`), 'the container cgroup is under cgroup_parent')
      await engine.remove(other, { force: true })
    } finally {
      // runc makes the parent in every hierarchy mounted here (the unified one of a hybrid host too).
      for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
        if (existsSync(`/sys/fs/cgroup/${hierarchy}/${parent}`)) rmdirSync(`/sys/fs/cgroup/${hierarchy}/${parent}`)
      }
    }
  })
})

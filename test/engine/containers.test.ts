import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { collect, engineWithBusybox, specFor, until } from '../support/containers.js'
import { repoRoot } from '../support/helpers.js'

describe('embedded engine: containers with runc', function () {
  this.timeout(60_000)
  let engine: EmbeddedEngine
  let root: string
  let cleanup: () => Promise<void>
  beforeEach(async () => {
    ;({ engine, root, cleanup } = await engineWithBusybox())
  })
  afterEach(async () => {
    await cleanup()
  })

  it('runs a command, keeps stdout and stderr apart, and reports the exit code', async () => {
    const c = await engine.createContainer(specFor('t-run', ['sh', '-c', 'echo out; echo err >&2; exit 3'], { labels: { 'com.docker.compose.project': 'p1' } }))
    assert.equal(c.state, 'created')
    await engine.start(c.id)
    assert.equal(await engine.wait(c.id), 3)
    const logs = await collect(engine.logs(c.id))
    assert.deepEqual(logs.map((l) => [l.stream, l.text]).sort(), [['stderr', 'err'], ['stdout', 'out']])
    const after = (await engine.inspectContainer('t-run'))!
    assert.deepEqual([after.state, after.exitCode], ['exited', 3])
    assert.equal((await engine.listContainers({ 'com.docker.compose.project': 'p1' }, { all: true })).length, 1)
    assert.equal((await engine.listContainers({ 'com.docker.compose.project': 'other' }, { all: true })).length, 0)
  })

  it('tells running, paused and ended from /proc and the freezer cgroup as runc does (listings ask runc nothing)', async () => {
    const { processStatus, runState } = await import('../../src/engine/embedded/containers/liveness.js')
    const c = await engine.createContainer(specFor('t-status', ['sleep', '60']))
    await engine.start(c.id)
    const dir = join(root, 'containers', c.id)
    const pid = (await runState(dir)).pid!
    const runc = () => JSON.parse(spawnSync('runc', ['--root', join(root, 'runtime'), 'state', c.id], { encoding: 'utf8' }).stdout || '{}').status
    assert.deepEqual([processStatus(pid, c.id), runc()], ['running', 'running'])
    await engine.pause(c.id)
    assert.deepEqual([processStatus(pid, c.id), runc()], ['paused', 'paused'])
    assert.equal((await engine.inspectContainer(c.id))!.state, 'paused')
    await engine.unpause(c.id)
    assert.equal(processStatus(pid, c.id), 'running')
    // Another container's id: a reused pid is not this container's process.
    assert.equal(processStatus(pid, 'f'.repeat(64)), 'stopped')
    await engine.stop(c.id, { timeoutMs: 1000 })
    assert.equal(processStatus(pid, c.id), 'stopped')
    assert.equal((await engine.listContainers({}, { all: true })).find((x) => x.id === c.id)?.state, 'exited')
  })

  it('keeps running after the pier process that started it exits, and a later process sees the truth', async () => {
    const script = `
      const { EmbeddedEngine } = await import(${JSON.stringify(join(repoRoot, 'dist/src/engine/embedded/engine.js'))})
      const { specFor } = await import(${JSON.stringify(join(repoRoot, 'dist/test/support/containers.js'))})
      const engine = new EmbeddedEngine({ root: ${JSON.stringify(root)} })
      const c = await engine.createContainer(specFor('t-detached', ['sh', '-c', 'echo started; sleep 1; echo done; exit 7']))
      await engine.start(c.id)`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, PIER_NO_CACHE: '1' } })
    assert.equal(child.status, 0, child.stderr)
    assert.equal((await engine.inspectContainer('t-detached'))!.state, 'running')
    assert.equal(await engine.wait('t-detached'), 7)
    assert.deepEqual((await collect(engine.logs('t-detached'))).map((l) => l.text), ['started', 'done'])
  })

  it('stops with the stop signal, then kills after the grace period', async () => {
    const polite = await engine.createContainer(specFor('t-polite', ['sh', '-c', 'trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']))
    await engine.start(polite.id)
    await new Promise((r) => setTimeout(r, 300))
    await engine.stop(polite.id)
    assert.equal((await engine.inspectContainer(polite.id))!.exitCode, 0)
    assert.ok((await collect(engine.logs(polite.id))).some((l) => l.text === 'bye'))

    const stubborn = await engine.createContainer(specFor('t-stubborn', ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']))
    await engine.start(stubborn.id)
    const started = Date.now()
    await engine.stop(stubborn.id, { timeoutMs: 500 })
    assert.ok(Date.now() - started >= 500)
    assert.equal((await engine.inspectContainer(stubborn.id))!.exitCode, 137)
  })

  it('executes commands inside with env, user and working directory, passing the exit code', async () => {
    const c = await engine.createContainer(specFor('t-exec', ['sleep', '30']))
    await engine.start(c.id)
    const result = await engine.exec(c.id, { argv: ['sh', '-c', 'echo $GREETING; id -u; pwd; exit 4'], env: { GREETING: 'hi' }, user: 'app', workingDir: '/tmp' })
    assert.deepEqual([result.exitCode, result.stdout], [4, 'hi\n1000\n/tmp\n'])
    await engine.stop(c.id, { timeoutMs: 100 })
  })

  it('runs the healthcheck without pier: starting, then healthy or unhealthy', async () => {
    const check = { intervalMs: 200, timeoutMs: 1000, retries: 2, startPeriodMs: 0, startIntervalMs: 0 }
    const good = await engine.createContainer(specFor('t-healthy', ['sleep', '30'], { healthcheck: { test: ['CMD', 'true'], ...check } }))
    const bad = await engine.createContainer(specFor('t-unhealthy', ['sleep', '30'], { healthcheck: { test: ['CMD-SHELL', 'exit 1'], ...check } }))
    const slow = await engine.createContainer(specFor('t-starting', ['sleep', '30'], { healthcheck: { test: ['CMD', 'true'], ...check, intervalMs: 60_000 } }))
    await engine.start(slow.id)
    assert.equal((await engine.inspectContainer(slow.id))!.health, 'starting')
    await engine.start(good.id)
    await engine.start(bad.id)
    await until('healthy', async () => (await engine.inspectContainer(good.id))!.health === 'healthy')
    await until('unhealthy', async () => (await engine.inspectContainer(bad.id))!.health === 'unhealthy')
  })

  it('restarts on failure up to the maximum, and not after a stop', async () => {
    const c = await engine.createContainer(specFor('t-restart', ['sh', '-c', 'echo attempt; exit 1'], { restart: { policy: 'on-failure', maxRetries: 2 } }))
    await engine.start(c.id)
    await until('three attempts', async () => (await collect(engine.logs(c.id))).length === 3 && (await engine.inspectContainer(c.id))!.state === 'exited')
    assert.equal(await engine.wait(c.id), 1)

    const always = await engine.createContainer(specFor('t-always', ['sleep', '30'], { restart: { policy: 'always' } }))
    await engine.start(always.id)
    await engine.stop(always.id, { timeoutMs: 200 })
    await new Promise((r) => setTimeout(r, 500))
    assert.equal((await engine.inspectContainer(always.id))!.state, 'exited', 'a container stopped by the user stays stopped')
  })

  it('enforces the memory limit: a process over it is killed', async () => {
    const c = await engine.createContainer(
      specFor('t-oom', ['sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'], { limits: { memory: 16 * 1024 * 1024, memorySwap: 16 * 1024 * 1024 } }),
    )
    await engine.start(c.id)
    const code = await engine.wait(c.id)
    assert.ok(!(await collect(engine.logs(c.id))).some((l) => l.text === 'survived'), 'the allocation was stopped')
    assert.notEqual(code, 0)
  })

  it('keeps named volume data across containers, and fills a new volume from the image', async () => {
    await engine.createVolume({ name: 't-data', labels: {} })
    const writer = await engine.createContainer(specFor('t-writer', ['sh', '-c', 'echo kept > /data/file'], { mounts: [{ type: 'volume', source: 't-data', target: '/data', readOnly: false }] }))
    await engine.start(writer.id)
    assert.equal(await engine.wait(writer.id), 0)
    await engine.remove(writer.id)
    const reader = await engine.createContainer(specFor('t-reader', ['cat', '/data/file'], { mounts: [{ type: 'volume', source: 't-data', target: '/data', readOnly: true }] }))
    await engine.start(reader.id)
    await engine.wait(reader.id)
    assert.deepEqual((await collect(engine.logs(reader.id))).map((l) => l.text), ['kept'])

    await engine.createVolume({ name: 't-etc', labels: {} })
    const copy = await engine.createContainer(specFor('t-copy', ['sh', '-c', 'grep -c app /etc/passwd'], { mounts: [{ type: 'volume', source: 't-etc', target: '/etc', readOnly: false }] }))
    await engine.start(copy.id)
    await engine.wait(copy.id)
    assert.deepEqual((await collect(engine.logs(copy.id))).map((l) => l.text), ['1'])
    // As Docker: a volume mounted by a container, even an exited one, is not removed.
    await assert.rejects(engine.removeVolume('t-data'), /volume t-data is in use by container t-reader: remove the container first/)
    await engine.remove(reader.id)
    await engine.remove(copy.id)
    await engine.removeVolume('t-data')
    await engine.removeVolume('t-etc')
  })

  it('mounts binds (creating a short-syntax source) and tmpfs, read-only when asked', async () => {
    const host = join(root, 'host-dir')
    mkdirSync(host)
    writeFileSync(join(host, 'in.txt'), 'from host')
    const c = await engine.createContainer(
      specFor('t-binds', ['sh', '-c', 'cat /in/in.txt; echo; touch /in/x 2>/dev/null || echo read-only; echo made > /new/f; grep -c " /scratch " /proc/mounts'], {
        mounts: [
          { type: 'bind', source: host, target: '/in', readOnly: true, createHostPath: false },
          { type: 'bind', source: join(root, 'created'), target: '/new', readOnly: false, createHostPath: true },
          { type: 'tmpfs', target: '/scratch', size: 1024 * 1024 },
        ],
      }),
    )
    await engine.start(c.id)
    await engine.wait(c.id)
    assert.deepEqual((await collect(engine.logs(c.id))).map((l) => l.text), ['from host', 'read-only', '1'])
  })

  it('runs an init as PID 1 with init: true, which passes signals on', async () => {
    const c = await engine.createContainer(specFor('t-init', ['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; echo pid $$; trap "echo got TERM; exit 0" TERM; while true; do sleep 0.1; done'], { init: true }))
    await engine.start(c.id)
    await new Promise((r) => setTimeout(r, 300))
    await engine.stop(c.id, { timeoutMs: 5000 })
    const lines = (await collect(engine.logs(c.id))).map((l) => l.text)
    assert.match(lines[0], /^\/sbin\/docker-init -- sh -c/)
    assert.notEqual(lines[1], 'pid 1')
    assert.equal(lines[2], 'got TERM')
    assert.equal((await engine.inspectContainer(c.id))!.exitCode, 0)
  })

  it('reads logs with tail, since, until and follow', async () => {
    const c = await engine.createContainer(specFor('t-logs', ['sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done']))
    await engine.start(c.id)
    const followed = await collect(engine.logs(c.id, { follow: true }))
    assert.deepEqual(followed.map((l) => l.text), ['line 1', 'line 2', 'line 3', 'line 4', 'line 5'], 'follow ends when the container does')
    assert.deepEqual((await collect(engine.logs(c.id, { tail: 2 }))).map((l) => l.text), ['line 4', 'line 5'])
    assert.deepEqual(await collect(engine.logs(c.id, { tail: 0 })), [])
    const third = followed[2].time
    assert.deepEqual((await collect(engine.logs(c.id, { since: third }))).map((l) => l.text), ['line 3', 'line 4', 'line 5'])
    assert.deepEqual((await collect(engine.logs(c.id, { until: third }))).map((l) => l.text), ['line 1', 'line 2', 'line 3'])
    assert.ok(followed.every((l) => !Number.isNaN(Date.parse(l.time))))
  })

  it('removes anonymous volumes with the container when asked, named ones never', async () => {
    await engine.createVolume({ name: 't-named', labels: {} })
    const c = await engine.createContainer(
      specFor('t-anon', ['true'], { mounts: [{ type: 'volume', source: '', target: '/anon', readOnly: false }, { type: 'volume', source: 't-named', target: '/named', readOnly: false }] }),
    )
    const anonymous = (await engine.listVolumes({ 'com.docker.volume.anonymous': '' })).map((v) => v.name)
    assert.equal(anonymous.length, 1)
    await engine.remove(c.id, { volumes: true })
    assert.deepEqual(await engine.listVolumes({ 'com.docker.volume.anonymous': '' }), [])
    assert.deepEqual((await engine.listVolumes()).map((v) => v.name), ['t-named'])
    await engine.removeVolume('t-named')
  })

  it('a recreated container inherits the anonymous volume passed as source, and removes it when asked, not before', async () => {
    const old = await engine.createContainer(specFor('t-anon-old', ['sh', '-c', 'echo kept > /anon/file'], { mounts: [{ type: 'volume', source: '', target: '/anon', readOnly: false }] }))
    await engine.start(old.id)
    await engine.wait(old.id)
    const volume = old.mounts[0].source
    // As the planner recreates: the new container is made with the old one's volume, then the old one goes (with its volumes).
    const fresh = await engine.createContainer(specFor('t-anon-new', ['cat', '/anon/file'], { mounts: [{ type: 'volume', source: volume, target: '/anon', readOnly: false }] }))
    assert.deepEqual(fresh.mounts.map((m) => [m.source, m.anonymous]), [[volume, true]])
    await engine.remove(old.id, { volumes: true })
    assert.deepEqual((await engine.listVolumes({ 'com.docker.volume.anonymous': '' })).map((v) => v.name), [volume], 'kept while the new container uses it')
    await engine.start(fresh.id)
    await engine.wait(fresh.id)
    assert.deepEqual((await collect(engine.logs(fresh.id))).map((l) => l.text), ['kept'])
    await engine.remove(fresh.id, { volumes: true })
    assert.deepEqual(await engine.listVolumes({ 'com.docker.volume.anonymous': '' }), [])
  })

  it('confines with a default seccomp profile, Docker capabilities and masked paths, unless privileged', async () => {
    const probe = ['sh', '-c', 'grep -E "^(Seccomp|CapEff):" /proc/self/status | tr -s "\\t" " "; cat /proc/kcore >/dev/null 2>&1 && echo kcore-readable || echo kcore-masked']
    const confined = await engine.createContainer(specFor('t-confined', probe))
    const loose = await engine.createContainer(specFor('t-privileged', probe, { privileged: true }))
    const tuned = await engine.createContainer(specFor('t-caps', ['sh', '-c', 'grep CapEff /proc/self/status | tr -s "\\t" " "'], { capDrop: ['ALL'], capAdd: ['NET_ADMIN'] }))
    for (const c of [confined, loose, tuned]) {
      await engine.start(c.id)
      await engine.wait(c.id)
    }
    const text = async (id: string) => (await collect(engine.logs(id))).map((l) => l.text)
    assert.deepEqual(await text(confined.id), ['CapEff: 00000000a80425fb', 'Seccomp: 2', 'kcore-masked'])
    const privileged = await text(loose.id)
    assert.equal(privileged[1], 'Seccomp: 0')
    assert.deepEqual(await text(tuned.id), ['CapEff: 0000000000001000'])
  })

  it('lists processes (top) and copies files in and out, never through a link out of the container', async () => {
    const c = await engine.createContainer(specFor('t-cp', ['sh', '-c', 'mkdir /out; echo hello > /out/hello.txt; ln -s / /escape; ln -s ../../../.. /up; sleep 30']))
    await engine.start(c.id)
    await until('the files', async () => (await engine.exec(c.id, { argv: ['test', '-L', '/up'] })).exitCode === 0)
    const top = await engine.top(c.id)
    assert.deepEqual(top.titles, ['UID', 'PID', 'PPID', 'CMD'])
    assert.ok(top.processes.some((p) => p[3] === 'sleep 30'), JSON.stringify(top.processes))

    const entries: Record<string, string> = {}
    const extract = (await import('tar-stream')).default.extract()
    ;(await engine.copyFrom(c.id, '/out')).pipe(extract)
    for await (const e of extract) {
      const chunks: Buffer[] = []
      for await (const chunk of e) chunks.push(chunk as Buffer)
      entries[e.header.name] = Buffer.concat(chunks).toString()
    }
    assert.deepEqual(entries, { out: '', 'out/hello.txt': 'hello\n' })

    const probe = `pier-cp-probe-${process.pid}.txt`
    const { tarOf } = await import('../support/images.js')
    const { Readable } = await import('node:stream')
    await engine.copyTo(c.id, '/escape', Readable.from(await tarOf([{ name: probe, content: 'inside' }])))
    await engine.copyTo(c.id, '/up/tmp', Readable.from(await tarOf([{ name: probe, content: 'inside too' }])))
    const { existsSync } = await import('node:fs')
    assert.ok(!existsSync(`/${probe}`) && !existsSync(`/tmp/${probe}`), 'nothing was written on the host')
    assert.equal((await engine.exec(c.id, { argv: ['cat', `/${probe}`, `/tmp/${probe}`] })).stdout, 'insideinside too')
    await assert.rejects(engine.copyFrom(c.id, '/nope'), /no such file or directory in the container: \/nope/)
    await engine.stop(c.id, { timeoutMs: 100 })
  })

  it('clears a create that pier was killed in the middle of at the next listing, and never a create in progress', async () => {
    const { mkdirSync, existsSync } = await import('node:fs')
    const interrupted = join(root, 'containers', 'f'.repeat(64))
    mkdirSync(join(interrupted, 'upper'), { recursive: true })
    assert.deepEqual(await engine.listContainers({}, { all: true }), [])
    assert.ok(!existsSync(interrupted), 'down and ps see no leftover: the listing cleared it')
    // Creates hold the lock from their directory to their record, so listings running beside them clear nothing of theirs.
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) => Promise.all([engine.createContainer(specFor(`t-race-${i}`, ['true'])), engine.listContainers({}, { all: true })])))
    for (const [c] of made) assert.ok(await engine.inspectContainer(c.id), `${c.name} survived the listings`)
    for (const [c] of made) await engine.remove(c.id)
  })

  it('applies sysctls, ulimits (kept under the host hard limit), secrets as files and bind-type volumes', async () => {
    const secret = join(root, 'token.txt')
    writeFileSync(secret, 's3cret')
    const device = join(root, 'device-dir')
    mkdirSync(device)
    writeFileSync(join(device, 'marker'), 'on the device')
    await engine.createVolume({ name: 't-bindvol', labels: {}, driverOpts: { type: 'none', o: 'bind', device } })
    const hardNofile = Number((await import('node:fs')).readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!.trim().split(/\s+/)[4])
    const c = await engine.createContainer(
      specFor('t-misc', ['sh', '-c', 'cat /proc/sys/net/core/somaxconn; ulimit -Hn; ulimit -Sn; cat /run/secrets/token; echo; cat /dev-data/marker'], {
        sysctls: { 'net.core.somaxconn': '1234' },
        ulimits: { nofile: { soft: 4096, hard: hardNofile * 4 } },
        mounts: [
          { type: 'file', source: secret, target: '/run/secrets/token' },
          { type: 'volume', source: 't-bindvol', target: '/dev-data', readOnly: true },
        ],
      }),
    )
    await engine.start(c.id)
    await engine.wait(c.id)
    assert.deepEqual((await collect(engine.logs(c.id))).map((l) => l.text), ['1234', String(hardNofile), '4096', 's3cret', 'on the device'])
    await engine.remove(c.id)
    await engine.removeVolume('t-bindvol')
    assert.ok((await import('node:fs')).existsSync(join(device, 'marker')), 'removing a bind-type volume leaves its device alone')
  })

  it('pauses and unpauses with the freezer', async () => {
    const c = await engine.createContainer(specFor('t-pause', ['sleep', '30']))
    await engine.start(c.id)
    await engine.pause(c.id)
    assert.equal((await engine.inspectContainer(c.id))!.state, 'paused')
    await engine.unpause(c.id)
    assert.equal((await engine.inspectContainer(c.id))!.state, 'running')
    await engine.stop(c.id, { timeoutMs: 100 })
  })

  it('runs with network_mode none (its own namespace: loopback only) or host', async () => {
    const none = await engine.createContainer(specFor('t-none', ['sh', '-c', 'ls /sys/class/net; hostname'], { networkMode: 'none' }))
    await engine.start(none.id)
    await engine.wait(none.id)
    assert.deepEqual((await collect(engine.logs(none.id))).map((l) => l.text), ['lo', none.id.slice(0, 12)])
    const host = await engine.createContainer(specFor('t-host', ['sh', '-c', 'ls /sys/class/net | grep -c .'], { networkMode: 'host' }))
    await engine.start(host.id)
    await engine.wait(host.id)
    const hostInterfaces = (await import('node:fs')).readdirSync('/sys/class/net').length
    assert.deepEqual((await collect(engine.logs(host.id))).map((l) => l.text), [String(hostInterfaces)])
  })

  it('gives a terminal with tty: true and keeps stdin open with stdin_open, so a shell stays up; the exit code passes through', async () => {
    const logs = async (id: string) => {
      const out: string[] = []
      for await (const l of engine.logs(id)) out.push(l.text)
      return out
    }
    const script = '[ -t 0 ] && echo stdin-tty; [ -t 1 ] && echo stdout-tty; exec sh'
    for (const [tty, stdinOpen, alive] of [[true, false, true], [false, true, true], [false, false, false]] as const) {
      const c = await engine.createContainer(specFor(`t-tty-${tty}-${stdinOpen}`, ['sh', '-c', script], { tty, stdinOpen }))
      await engine.start(c.id)
      await new Promise((r) => setTimeout(r, 500))
      const state = (await engine.inspectContainer(c.id))!.state
      assert.equal(state, alive ? 'running' : 'exited', `tty ${tty}, stdin_open ${stdinOpen}`)
      const out = await logs(c.id)
      assert.equal(out.includes('stdin-tty') && out.includes('stdout-tty'), tty, out.join('|'))
      await engine.remove(c.id, { force: true })
    }
    const coded = await engine.createContainer(specFor('t-tty-code', ['sh', '-c', 'echo bye; exit 3'], { tty: true }))
    await engine.start(coded.id)
    assert.equal(await engine.wait(coded.id), 3)
    assert.deepEqual(await logs(coded.id), ['bye'])
    await engine.remove(coded.id)
  })

  it('passes a host device through with devices:, and refuses one that does not exist', async () => {
    // /dev/net/tun: a character device outside Docker's default set; opening it needs the cgroup rule.
    const probe = 'ls -l /dev/tun0 2>/dev/null | head -c 1; exec 3<>/dev/tun0 && echo opened || echo refused'
    const withDevice = await engine.createContainer(specFor('t-dev', ['sh', '-c', probe], { devices: [{ source: '/dev/net/tun', target: '/dev/tun0', permissions: 'rwm' }] }))
    await engine.start(withDevice.id)
    await engine.wait(withDevice.id)
    const out: string[] = []
    for await (const l of engine.logs(withDevice.id)) out.push(l.text)
    assert.match(out.join('\n'), /^copened/)
    await engine.remove(withDevice.id)
    const missing = await engine.createContainer(specFor('t-nodev', ['true'], { devices: [{ source: '/dev/no-such-device', target: '/dev/x', permissions: 'rwm' }] }))
    await assert.rejects(engine.start(missing.id), /device \/dev\/no-such-device does not exist on this host/)
  })

  it('gives clear errors and makes nothing half', async () => {
    await assert.rejects(engine.createContainer(specFor('t-noimg', ['true'], { image: 'nothere:1' })), /no such image: nothere:1/)
    const missing = await engine.createContainer(specFor('t-nocmd', ['definitely-not-here']))
    await assert.rejects(engine.start(missing.id), /cannot start container t-nocmd: .*definitely-not-here.*(not found|no such file)/i)
    const badUser = await engine.createContainer(specFor('t-baduser', ['true'], { user: 'ghost' }))
    await assert.rejects(engine.start(badUser.id), /unable to find user ghost/)
    const noSource = await engine.createContainer(specFor('t-nosource', ['true'], { mounts: [{ type: 'bind', source: join(root, 'absent'), target: '/x', readOnly: false, createHostPath: false }] }))
    await assert.rejects(engine.start(noSource.id), /the bind source .*absent does not exist/)
    await assert.rejects(engine.createContainer(specFor('t-nocmd', ['true'])), /the container name "t-nocmd" is already in use/)
    const running = await engine.createContainer(specFor('t-busy', ['sleep', '30']))
    await engine.start(running.id)
    await assert.rejects(engine.remove(running.id), /container t-busy is running: stop it first/)
  })
})

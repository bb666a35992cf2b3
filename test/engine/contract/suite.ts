import assert from 'node:assert/strict'
import type { Engine } from '../../../src/engine/engine.js'
import { defaultContainerSpec } from '../../../src/engine/defaults.js'
import { EngineError } from '../../../src/engine/errors.js'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import { BUSYBOX, tarOf } from '../../support/images.js'
import { readFileSync } from 'node:fs'

/** The entry names of a tar stream, without a leading `./`. */
async function tarNames(stream: NodeJS.ReadableStream): Promise<string[]> {
  const names: string[] = []
  const extract = tar.extract()
  ;(stream as Readable).pipe(extract)
  for await (const entry of extract) {
    names.push(entry.header.name.replace(/^\.\//, '').replace(/\/$/, ''))
    entry.resume()
  }
  return names
}

/**
 * The engine contract as behaviours every driver must show, on real
 * containers. A driver's test file calls `contractSuite` with a factory that
 * gives an engine holding a `busybox` image and a clean-up; the embedded
 * driver runs it now, the docker driver will run the same file.
 */
export interface DriverUnderTest {
  engine: Engine
  /** Removes everything the suite made and checks the driver leaked nothing. */
  cleanup(): Promise<void>
}

export function contractSuite(driver: string, open: () => Promise<DriverUnderTest>): void {
  describe(`engine contract: ${driver}`, function () {
    this.timeout(60_000)
    let d: DriverUnderTest
    const unique = (what: string) => `contract-${what}-${process.pid}`
    const spec = (name: string, argv: string[], more: Partial<ReturnType<typeof defaultContainerSpec>> = {}) => ({
      ...defaultContainerSpec(name, 'busybox', argv),
      stopGracePeriodMs: 500,
      labels: { 'com.docker.compose.project': unique('p'), 'com.docker.compose.service': name },
      ...more,
    })

    before(async () => {
      d = await open()
    })
    after(async () => {
      await d?.cleanup()
    })

    it('creates, starts, lists by label, stops and removes a container; its state follows', async () => {
      const name = unique('life')
      const created = await d.engine.createContainer(spec(name, ['sleep', '30']))
      assert.equal(created.state, 'created')
      assert.equal(created.name, name)
      await d.engine.start(created.id)
      const listed = await d.engine.listContainers({ 'com.docker.compose.service': name })
      assert.deepEqual(listed.map((c) => [c.name, c.state]), [[name, 'running']])
      await d.engine.stop(created.id, { timeoutMs: 500 })
      assert.equal((await d.engine.inspectContainer(name))?.state, 'exited')
      assert.deepEqual(await d.engine.listContainers({ 'com.docker.compose.service': name }), [], 'stopped ones only with all')
      assert.equal((await d.engine.listContainers({ 'com.docker.compose.service': name }, { all: true })).length, 1)
      await d.engine.remove(created.id)
      assert.equal(await d.engine.inspectContainer(created.id), undefined)
    })

    it('refuses a second container of the same name as a conflict', async () => {
      const name = unique('dup')
      const first = await d.engine.createContainer(spec(name, ['true']))
      await assert.rejects(d.engine.createContainer(spec(name, ['true'])), (e: unknown) => e instanceof EngineError && e.code === 'conflict')
      await d.engine.remove(first.id)
    })

    it('records the exit code, keeps the output, and runs processes inside', async () => {
      const name = unique('exit')
      const c = await d.engine.createContainer(spec(name, ['sh', '-c', 'echo out; echo err >&2; exit 3']))
      await d.engine.start(c.id)
      assert.equal(await d.engine.wait(c.id), 3)
      const inspected = await d.engine.inspectContainer(c.id)
      assert.equal(inspected?.state, 'exited')
      assert.equal(inspected?.exitCode, 3)
      const lines: string[] = []
      for await (const l of d.engine.logs(c.id)) lines.push(`${l.stream}:${l.text}`)
      assert.deepEqual(lines.sort(), ['stderr:err', 'stdout:out'])
      await d.engine.remove(c.id)

      const run = await d.engine.createContainer(spec(unique('exec'), ['sleep', '30'], { env: { GREETING: 'hi' } }))
      await d.engine.start(run.id)
      const result = await d.engine.exec(run.id, { argv: ['sh', '-c', 'echo $GREETING; exit 4'] })
      assert.equal(result.exitCode, 4)
      assert.equal(result.stdout, 'hi\n')
      await d.engine.kill(run.id, 'KILL')
      await d.engine.wait(run.id)
      await d.engine.remove(run.id)
    })

    it('removes paths inside a running container, a link itself and not its target', async () => {
      const c = await d.engine.createContainer(spec(unique('rmpaths'), ['sleep', '30']))
      await d.engine.start(c.id)
      await d.engine.exec(c.id, { argv: ['sh', '-c', 'mkdir -p /gone/deep && echo x > /gone/deep/f && echo y > /kept && ln -s /kept /link'] })
      await d.engine.removePaths(c.id, ['/gone', '/link', '/never-there'])
      const left = await d.engine.exec(c.id, { argv: ['sh', '-c', 'test -e /gone; echo $?; cat /kept'] })
      assert.equal(left.stdout, '1\ny\n', 'the directory went, the link went, its target stayed')
      await d.engine.remove(c.id, { force: true })
    })

    it('pauses and unpauses', async () => {
      const c = await d.engine.createContainer(spec(unique('pause'), ['sleep', '30']))
      await d.engine.start(c.id)
      await d.engine.pause(c.id)
      assert.equal((await d.engine.inspectContainer(c.id))?.state, 'paused')
      await d.engine.unpause(c.id)
      assert.equal((await d.engine.inspectContainer(c.id))?.state, 'running')
      await d.engine.remove(c.id, { force: true })
    })

    it('makes an anonymous volume for an empty source, reports it, and removes it only when asked', async () => {
      const mount = { type: 'volume' as const, source: '', target: '/data', readOnly: false }
      const keep = await d.engine.createContainer(spec(unique('anon1'), ['true'], { mounts: [mount] }))
      const kept = keep.mounts.find((m) => m.target === '/data')
      assert.ok(kept?.anonymous && kept.source, 'reported as anonymous, with its name')
      await d.engine.remove(keep.id)
      assert.ok((await d.engine.listVolumes({})).some((v) => v.name === kept.source), 'kept without volumes')
      // A replacement given the name takes it over; removing it with volumes removes it.
      const heir = await d.engine.createContainer(spec(unique('anon2'), ['true'], { mounts: [{ ...mount, source: kept.source }] }))
      assert.ok(heir.mounts.find((m) => m.target === '/data')?.anonymous, 'an inherited anonymous volume is still anonymous')
      await d.engine.remove(heir.id, { volumes: true })
      assert.ok(!(await d.engine.listVolumes({})).some((v) => v.name === kept.source), 'removed with volumes')
    })

    it('creates, lists by label and removes volumes and networks', async () => {
      const labels = { 'com.docker.compose.project': unique('res') }
      await d.engine.createVolume({ name: unique('vol'), labels })
      assert.deepEqual((await d.engine.listVolumes(labels)).map((v) => v.name), [unique('vol')])
      await d.engine.removeVolume(unique('vol'))
      assert.deepEqual(await d.engine.listVolumes(labels), [])
      await d.engine.createNetwork({ name: unique('net'), internal: false, enableIpv6: false, labels })
      assert.equal((await d.engine.inspectNetwork(unique('net')))?.name, unique('net'))
      assert.deepEqual((await d.engine.listNetworks(labels)).map((n) => n.name), [unique('net')])
      await d.engine.removeNetwork(unique('net'))
      assert.equal(await d.engine.inspectNetwork(unique('net')), undefined)
    })

    it("commits a container's changes with -c changes and a message; the history shows the step; the image runs", async () => {
      const c = await d.engine.createContainer(spec(unique('commit'), ['sh', '-c', 'echo hi > /made; exec sleep 30']))
      await d.engine.start(c.id)
      await d.engine.exec(c.id, { argv: ['sh', '-c', 'while [ ! -e /made ]; do sleep 0.05; done'] })
      const base = (await d.engine.inspectImage('busybox'))!
      const tag = `contract-commit-${process.pid}:1`
      const image = await d.engine.commitContainer(c.id, { tag, changes: ['ENV GREETING=hi', 'CMD ["cat", "/made"]', 'WORKDIR /tmp'], message: 'a step', author: 'Pier Tests' })
      try {
        assert.equal(image.layers.length, base.layers.length + 1)
        assert.ok(image.config.env.includes('GREETING=hi'))
        assert.deepEqual(image.config.cmd, ['cat', '/made'])
        assert.equal(image.config.workingDir, '/tmp')
        assert.equal((await d.engine.inspectContainer(c.id))?.state, 'running', 'unpaused after')
        const history = await d.engine.imageHistory(tag)
        assert.equal(history[0].id, image.id)
        // Podman's commit writes its own history entry ("/bin/sh", comment "FROM base") and keeps the message elsewhere.
        if (!driver.includes('podman')) {
          assert.equal(history[0].comment, 'a step')
          assert.equal(history[0].createdBy, '', 'as dockerd writes a commit')
        }
        assert.ok(history[0].size > 0)
        const names = await tarNames(await d.engine.exportContainer(c.id))
        assert.ok(names.includes('made') && names.includes('bin/busybox'), names.slice(0, 20).join(' '))
        const again = await d.engine.createContainer({ ...spec(unique('committed'), ['cat', '/made']), image: image.id })
        await d.engine.start(again.id)
        assert.equal(await d.engine.wait(again.id), 0)
        const lines: string[] = []
        for await (const l of d.engine.logs(again.id)) lines.push(l.text)
        assert.deepEqual(lines, ['hi'])
        await d.engine.remove(again.id)
      } finally {
        await d.engine.remove(c.id, { force: true })
        await d.engine.removeImage(tag, { force: true }).catch(() => undefined)
      }
    })

    it('imports a root filesystem tar as a one-layer image, with changes and a message', async () => {
      const rootfs = await tarOf([{ name: 'bin', type: 'directory' }, { name: 'bin/busybox', content: readFileSync(BUSYBOX), mode: 0o755 }, { name: 'f', content: 'imported\n' }])
      const tag = `contract-import-${process.pid}:1`
      const image = await d.engine.importImage(Readable.from(rootfs), { tag, changes: ['CMD ["/bin/busybox", "cat", "/f"]'], message: 'from a tar' })
      try {
        assert.equal(image.layers.length, 1)
        assert.deepEqual(image.config.cmd, ['/bin/busybox', 'cat', '/f'])
        assert.ok(image.tags.some((t) => t.includes(`contract-import-${process.pid}`)))
        const history = await d.engine.imageHistory(image.id)
        assert.deepEqual(history.map((h) => h.comment), ['from a tar'])
        const c = await d.engine.createContainer({ ...spec(unique('imported'), ['/bin/busybox', 'cat', '/f']), image: image.id })
        await d.engine.start(c.id)
        assert.equal(await d.engine.wait(c.id), 0)
        const lines: string[] = []
        for await (const l of d.engine.logs(c.id)) lines.push(l.text)
        assert.deepEqual(lines, ['imported'])
        await d.engine.remove(c.id)
      } finally {
        await d.engine.removeImage(tag, { force: true }).catch(() => undefined)
      }
    })

    it('prunes dangling images and says how much it reclaimed; named ones stay', async () => {
      const c = await d.engine.createContainer(spec(unique('prune'), ['sh', '-c', 'echo x > /x']))
      await d.engine.start(c.id)
      await d.engine.wait(c.id)
      const dangling = await d.engine.commitContainer(c.id, {})
      await d.engine.remove(c.id)
      const runs = [...(dangling.config.entrypoint ?? []), ...(dangling.config.cmd ?? [])]
      assert.deepEqual(runs, ['sh', '-c', 'echo x > /x'], "a commit runs the container's command")
      assert.deepEqual(dangling.tags, [])
      const report = await d.engine.pruneImages()
      assert.ok(report.deleted.includes(dangling.id), JSON.stringify(report))
      assert.ok(report.reclaimed > 0)
      assert.equal(await d.engine.inspectImage(dangling.id), undefined)
      assert.ok(await d.engine.inspectImage('busybox'), 'a named image stays')
      const cache = await d.engine.pruneBuildCache().catch((e: unknown) => {
        if (driver.includes('podman') && e instanceof EngineError && e.code === 'unsupported') return { entries: 0, reclaimed: 0 }
        throw e
      })
      assert.ok(cache.entries >= 0 && cache.reclaimed >= 0)
    })

    it('declares what it does not honour of a spec', () => {
      for (const [field, rule] of Object.entries(d.engine.capabilities.fields)) assert.ok(rule && ['warn', 'refuse'].includes(rule.action), field)
    })
  })
}

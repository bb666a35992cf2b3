import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable, Writable } from 'node:stream'
import tar from 'tar-stream'
import type { DockerEngine } from '../../../src/engine/docker/engine.js'
import type { EngineEvent } from '../../../src/engine/engine.js'
import { EngineError } from '../../../src/engine/errors.js'
import { specFor } from '../../support/containers.js'
import { type DaemonKind, dockerWithBusybox } from '../../support/dockerd.js'
import { tarOf } from '../../support/images.js'
import { TestRegistry } from '../../support/registry.js'

/** What the contract suite does not reach: the streams, files, images and events, as dockerd serves them. */
export function driverSuite(kind: DaemonKind, skip: Partial<Record<string, string>> = {}): void {
describe(`docker driver on ${kind}`, function () {
  this.timeout(60_000)
  // A behaviour the daemon does not show is listed pending, with the reason.
  const test = (key: string, title: string, fn: () => Promise<void>) => (skip[key] ? it(`${title} (not on ${kind}: ${skip[key]})`) : it(title, fn))
  const project = `docker-driver-${kind}-${process.pid}`
  const labels = { 'com.docker.compose.project': project }
  let engine: DockerEngine
  let cleanup: () => Promise<void>
  const spec = (name: string, argv: string[], more = {}) => specFor(`${project}-${name}`, argv, { stopGracePeriodMs: 1000, labels, ...more })
  const sink = () => {
    const chunks: Buffer[] = []
    const stream = new Writable({ write: (c, _e, cb) => (chunks.push(c as Buffer), cb()) })
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
  }

  before(async function () {
    this.timeout(300_000)
    ;({ engine, cleanup } = await dockerWithBusybox(labels, kind))
  })
  after(async () => {
    await cleanup?.()
  })

  it('negotiates an API version of at least 1.41 and says what it runs on', async () => {
    assert.ok(Number(engine.apiVersion.split('.')[1]) >= 41, engine.apiVersion)
    const info = await engine.info()
    assert.equal(info.name, 'docker')
    assert.match(info.root, /^(unix|tcp):\/\//)
  })

  it('execs with standard input and streams, with a TTY, and detached', async () => {
    const c = await engine.createContainer(spec('exec', ['sleep', '60']))
    await engine.start(c.id)
    const [out, err] = [sink(), sink()]
    const stdin = Readable.from(['one\n', 'two\n'])
    const r = await engine.exec(c.id, { argv: ['sh', '-c', 'cat; echo bad >&2; exit 2'], stdio: { stdin, stdout: out.stream, stderr: err.stream } })
    assert.deepEqual([r.exitCode, out.text(), err.text()], [2, 'one\ntwo\n', 'bad\n'])
    const tty = sink()
    const t = await engine.exec(c.id, { argv: ['sh', '-c', 'test -t 1 && echo tty'], tty: true, stdio: { stdout: tty.stream, stderr: tty.stream } })
    assert.deepEqual([t.exitCode, tty.text()], [0, 'tty\r\n'])
    assert.equal((await engine.exec(c.id, { argv: ['touch', '/detached'], detach: true })).exitCode, 0)
    for (let i = 0; i < 50 && (await engine.exec(c.id, { argv: ['test', '-e', '/detached'] })).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 100))
    assert.equal((await engine.exec(c.id, { argv: ['test', '-e', '/detached'] })).exitCode, 0)
    await engine.remove(c.id, { force: true })
  })

  test('top', 'lists the processes of a container in columns', async () => {
    const c = await engine.createContainer(spec('top', ['sleep', '60']))
    await engine.start(c.id)
    const top = await engine.top(c.id)
    assert.ok(top.titles.includes('PID') && top.processes.some((p) => p.join(' ').includes('sleep 60')), JSON.stringify(top))
    await engine.remove(c.id, { force: true })
  })

  it('runs attached: input in, output out, the exit code back', async () => {
    const c = await engine.createContainer(spec('attached', ['sh', '-c', 'read line; echo "got $line"; echo oops >&2; exit 5'], { stdinOpen: true }))
    const [out, err] = [sink(), sink()]
    const stdin = new PassThrough()
    stdin.end('hello\n')
    assert.equal(await engine.startAttached(c.id, { stdin, stdout: out.stream, stderr: err.stream }), 5)
    assert.deepEqual([out.text(), err.text()], ['got hello\n', 'oops\n'])
    await engine.remove(c.id)
  })

  it('copies files in and out as tar streams', async () => {
    const c = await engine.createContainer(spec('copy', ['sleep', '60']))
    await engine.start(c.id)
    await engine.copyTo(c.id, '/tmp', Readable.from(await tarOf([{ name: 'hello.txt', content: 'hi there\n' }])))
    assert.equal((await engine.exec(c.id, { argv: ['cat', '/tmp/hello.txt'] })).stdout, 'hi there\n')
    const extract = tar.extract()
    const names: string[] = []
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (h, s, next) => (names.push(h.name), s.resume(), s.on('end', next)))
      extract.on('finish', resolve)
      extract.on('error', reject)
    })
    ;(await engine.copyFrom(c.id, '/tmp/hello.txt')).pipe(extract)
    await done
    assert.deepEqual(names, ['hello.txt'])
    await assert.rejects(engine.copyFrom(c.id, '/nowhere'), (e: unknown) => e instanceof EngineError && e.code === 'not-found')
    await engine.remove(c.id, { force: true })
  })

  it('reads logs with tail and follows them; stops with a signal and a timeout in whole seconds', async () => {
    const c = await engine.createContainer(spec('logs', ['sh', '-c', 'trap "echo term; exit 0" TERM; for i in 1 2 3; do echo line $i; done; while true; do sleep 0.1; done']))
    await engine.start(c.id)
    for (let i = 0; i < 50; i++) {
      const all: string[] = []
      for await (const l of engine.logs(c.id)) all.push(l.text)
      if (all.length >= 3) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const tail: string[] = []
    for await (const l of engine.logs(c.id, { tail: 1 })) tail.push(l.text)
    assert.deepEqual(tail, ['line 3'])
    const followed: string[] = []
    const following = (async () => {
      for await (const l of engine.logs(c.id, { follow: true, since: new Date(Date.now() - 60_000).toISOString() })) {
        assert.match(l.time, /^\d{4}-\d\d-\d\dT/)
        followed.push(l.text)
      }
    })()
    await engine.stop(c.id, { signal: 'SIGTERM', timeoutMs: 1500 })
    await following
    assert.deepEqual(followed, ['line 1', 'line 2', 'line 3', 'term'])
    const stopped = await engine.inspectContainer(c.id)
    assert.deepEqual([stopped?.state, stopped?.exitCode], ['exited', 0])
    await engine.remove(c.id)
  })

  test('dns', 'joins several networks with aliases and publishes ports', async () => {
    const nets = ['a', 'b'].map((n) => `${project}-${n}`)
    for (const n of nets) await engine.createNetwork({ name: n, internal: false, enableIpv6: false, labels })
    const c = await engine.createContainer(
      spec('net', ['sleep', '60'], {
        networkMode: 'bridge',
        networks: nets.map((network, i) => ({ network, aliases: [`alias${i}`] })),
        ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }],
      }),
    )
    await engine.start(c.id)
    const running = await engine.inspectContainer(c.id)
    assert.deepEqual(Object.keys(running!.addresses).sort(), nets)
    assert.equal(running!.ports.length, 1)
    assert.match(running!.ports[0].hostPort, /^\d+$/)
    assert.deepEqual(running!.exposedPorts, ['80/tcp'])
    const peer = await engine.createContainer(spec('peer', ['sh', '-c', 'ping -c 1 -W 2 alias1'], { networkMode: 'bridge', networks: [{ network: nets[1], aliases: [] }] }))
    await engine.start(peer.id)
    assert.equal(await engine.wait(peer.id), 0, 'the alias resolves on the second network')
    await engine.remove(peer.id)
    await engine.remove(c.id, { force: true })
    for (const n of nets) await engine.removeNetwork(n)
  })

  it('reports events of the project by label', async () => {
    const seen: EngineEvent[] = []
    const it = engine.events(labels)[Symbol.asyncIterator]()
    const reading = (async () => {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        seen.push(r.value)
        if (r.value.action === "destroy") break
      }
      await it.return?.()
    })()
    await new Promise((r) => setTimeout(r, 300))
    const c = await engine.createContainer(spec('events', ['true']))
    await engine.start(c.id)
    await engine.wait(c.id)
    await engine.remove(c.id)
    await reading
    // Docker's own actions (a daemon may send more: Podman adds init and cleanup).
    const docker = ['create', 'start', 'die', 'destroy']
    assert.deepEqual(seen.filter((e) => e.type === 'container' && docker.includes(e.action)).map((e) => e.action), docker)
    assert.equal(seen[0].labels['com.docker.compose.project'], project)
  })

  test('build', 'builds from a context honouring .dockerignore, tags, saves and removes images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pier-build-'))
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nARG GREETING\nCOPY . /ctx/\nRUN echo "$GREETING" > /greeting\n')
      writeFileSync(join(dir, 'keep.txt'), 'kept\n')
      writeFileSync(join(dir, 'secret.env'), 'no\n')
      writeFileSync(join(dir, '.dockerignore'), '*.env\n')
      const lines: string[] = []
      const image = await engine.buildImage({ context: dir, args: { GREETING: 'hey' }, labels: { built: 'yes' }, tags: [`${project}:built`] }, { output: (l) => lines.push(l) })
      assert.ok(lines.some((l) => l.includes('Step')), lines.join('\n'))
      assert.deepEqual(image.tags, [`docker.io/library/${project}:built`])
      assert.equal(image.config.labels.built, 'yes')
      const c = await engine.createContainer(spec('built', ['sh', '-c', 'cat /greeting; ls /ctx'], { image: image.id }))
      await engine.start(c.id)
      await engine.wait(c.id)
      const out: string[] = []
      for await (const l of engine.logs(c.id)) out.push(l.text)
      assert.deepEqual(out, ['hey', 'Dockerfile', 'keep.txt'])
      await engine.remove(c.id)

      const inline = await engine.buildImage({ context: dir, dockerfileInline: 'FROM busybox\nLABEL inline=1\n', args: {}, labels: {}, tags: [`${project}:inline`] })
      assert.equal(inline.config.labels.inline, '1')

      await engine.tagImage(`${project}:built`, `${project}:again`)
      assert.deepEqual((await engine.inspectImage(`${project}:again`))?.id, image.id)
      const saved = sink()
      await engine.saveImages([`${project}:again`], saved.stream)
      assert.ok(saved.text().includes('manifest.json'))
      assert.deepEqual((await engine.removeImage(`${project}:again`)).untagged, [`docker.io/library/${project}:again`])
      await engine.removeImage(`${project}:inline`)
      const removed = await engine.removeImage(`${project}:built`)
      assert.ok(removed.deleted.includes(image.id))
      assert.equal(await engine.inspectImage(`${project}:built`), undefined)
      await assert.rejects(engine.removeImage(`${project}:built`), (e: unknown) => e instanceof EngineError && e.code === 'not-found')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('registry', 'pushes and pulls with the credentials of ~/.docker/config.json, and says a registry refused without them', async () => {
    const registry = await new TestRegistry({ alice: 'secret' }).start()
    const config = mkdtempSync(join(tmpdir(), 'pier-docker-config-'))
    const before = process.env.DOCKER_CONFIG
    try {
      process.env.DOCKER_CONFIG = config
      const ref = `${registry.host}/pier/busybox:${kind}`
      await engine.tagImage('busybox:latest', ref)
      await assert.rejects(engine.pushImage(ref), (e: unknown) => e instanceof EngineError && e.code === 'registry' && !e.message.includes('\n'))
      writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('alice:secret').toString('base64') } } }))
      const { digest } = await engine.pushImage(ref)
      assert.match(digest, /^sha256:[0-9a-f]{64}$/)
      await engine.removeImage(ref)
      const pulled = await engine.pullImage(ref)
      assert.ok(pulled.tags.includes(ref), pulled.tags.join(' '))
      assert.ok(pulled.digests.includes(`${registry.host}/pier/busybox@${digest}`), pulled.digests.join(' '))
      await engine.removeImage(ref)
    } finally {
      if (before === undefined) delete process.env.DOCKER_CONFIG
      else process.env.DOCKER_CONFIG = before
      rmSync(config, { recursive: true, force: true })
      await registry.stop()
    }
  })

  it('says a registry refused a pull, in one line', async () => {
    await assert.rejects(engine.pullImage('127.0.0.1:1/nothing:here'), (e: unknown) => e instanceof EngineError && e.code === 'registry' && !e.message.includes('\n') && /127\.0\.0\.1:1/.test(e.message))
  })
})
}

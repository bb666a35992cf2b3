import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import * as pier from '../../src/index.js'
import { compose, up } from '../../src/index.js'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { engineWithBusybox } from '../support/containers.js'
import { TempProject } from '../support/helpers.js'
import { busyboxImage, dockerArchive } from '../support/images.js'

/**
 * pier as a library, as a test file uses it: `up()` from in-memory YAML on a
 * real embedded engine, the started project's methods, and the rules the
 * orchestration layer decides once (issue 11), each on real containers.
 */
describe('the library API (compose layer) on real containers', function () {
  this.timeout(90_000)
  let engine: EmbeddedEngine
  let cleanup: () => Promise<void>
  let dir: TempProject
  const name = (what: string) => `pier-lib-${what}-${process.pid}`

  before(async () => {
    ;({ engine, cleanup } = await engineWithBusybox())
    await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['withvolume:latest'], { Cmd: ['sleep', '30'], Volumes: { '/var/lib/data': {} } })])))
    dir = new TempProject({})
  })
  after(async () => {
    dir.cleanup()
    await cleanup()
  })

  it('brings a project up from YAML text, prints nothing, answers on its published port, and goes with `await using`', async () => {
    const written: string[] = []
    const [out, err] = [process.stdout.write, process.stderr.write]
    process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write
    process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stderr.write
    let url: string
    let project = ''
    try {
      await using env = await up({
        engine,
        cwd: dir.dir,
        content: `services:\n  web:\n    image: busybox\n    command: [sh, -c, "mkdir -p /w && echo served > /w/index.html && echo ready && exec httpd -f -p 80 -h /w"]\n    ports: ["127.0.0.1::80"]\n    stop_grace_period: 100ms\n`,
        wait: true,
      })
      process.stdout.write = out
      process.stderr.write = err
      project = env.name
      assert.match(project, /^pier-[0-9a-f]{10}$/, 'a random project name: parallel runs never collide')
      url = env.service('web').url(80)
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
      await new Promise((r) => setTimeout(r, 200))
      assert.equal(await (await fetch(url)).text(), 'served\n')
      assert.equal((await env.exec('web', ['cat', '/w/index.html'])).stdout, 'served\n')
      assert.deepEqual((await env.logs()).map((e) => e.line.text), ['ready'])
      assert.deepEqual((await env.ps()).map((c) => `${c.name} ${c.state}`), [`${project}-web-1 running`])
    } finally {
      process.stdout.write = out
      process.stderr.write = err
    }
    assert.deepEqual(written, [], 'the library printed nothing')
    assert.deepEqual(await engine.listContainers({ 'com.docker.compose.project': project }, { all: true }), [], 'await using took it down')
    assert.deepEqual((await engine.listNetworks({ 'com.docker.compose.project': project })).length, 0)
  })

  it('run waits until a service_healthy dependency is healthy before the one-off starts', async () => {
    const project = name('run')
    const loaded = await pier.load({
      engine,
      cwd: dir.dir,
      content: `name: ${project}
services:
  db:
    image: busybox
    network_mode: none
    command: [sh, -c, "sleep 1; touch /shared/ready; exec sleep 30"]
    volumes: [shared:/shared]
    healthcheck: {test: [CMD, test, -f, /shared/ready], interval: 200ms, start_period: 5s, start_interval: 100ms}
    stop_grace_period: 100ms
  job:
    image: busybox
    network_mode: none
    command: [sh, -c, "test -f /shared/ready && echo db was ready"]
    volumes: [shared:/shared]
    depends_on: {db: {condition: service_healthy}}
volumes: {shared: {}}
`,
    })
    const ctx = { engine }
    try {
      const oneOff = await compose.createOneOff(ctx, loaded.project, 'job')
      await engine.start(oneOff.id)
      assert.equal(await engine.wait(oneOff.id), 0, 'the one-off found the file the healthcheck waited for')
      assert.equal((await engine.inspectContainer(`${project}-db-1`))?.health, 'healthy')
    } finally {
      await compose.down(ctx, loaded.project, { volumes: true, removeOrphans: true })
    }
  })

  it('up of one service resolves only its images and its dependencies\'; --wait ignores one-offs and other services', async () => {
    const project = name('select')
    const yaml = `name: ${project}
services:
  web: {image: busybox, network_mode: none, command: [sleep, "30"], stop_grace_period: 100ms}
  other: {image: "not-here:1", pull_policy: never, network_mode: none}
`
    const loaded = await pier.load({ engine, cwd: dir.dir, content: yaml })
    const ctx = { engine }
    try {
      // `other`'s image is missing and may not be pulled: only web's is looked at.
      await compose.up(ctx, loaded.project, { services: ['web'], wait: true, waitTimeoutMs: 10_000 })
      // A one-off of web that failed long ago does not fail a later --wait.
      const failed = await compose.createOneOff(ctx, loaded.project, 'web', { command: ['sh', '-c', 'exit 1'], noDeps: true })
      await engine.start(failed.id)
      assert.equal(await engine.wait(failed.id), 1)
      await compose.up(ctx, loaded.project, { services: ['web'], wait: true, waitTimeoutMs: 10_000 })
      await assert.rejects(compose.up(ctx, loaded.project, {}), /service "other": no image not-here:1 and pull_policy is never/)
    } finally {
      await compose.down(ctx, loaded.project, { volumes: true, removeOrphans: true })
    }
  })

  it('a spec error stops up before anything is made', async () => {
    const project = name('spec')
    const loaded = await pier.load({ engine, cwd: dir.dir, content: `name: ${project}\nservices:\n  ok: {image: busybox, command: [sleep, "1"]}\n  bad: {image: busybox, entrypoint: [], command: []}\n` })
    await assert.rejects(compose.up({ engine }, loaded.project), (e: unknown) => e instanceof pier.PlanError && /service "bad" has no command/.test(e.message))
    assert.deepEqual(await engine.listNetworks({ 'com.docker.compose.project': project }), [])
    assert.deepEqual(await engine.listContainers({ 'com.docker.compose.project': project }, { all: true }), [])
  })

  it("keeps anonymous volumes — the image's VOLUMEs too — across a recreate, and removes them with down -v", async () => {
    const project = name('anon')
    const yaml = (env: string) => `name: ${project}\nservices:\n  db:\n    image: withvolume\n    network_mode: none\n    volumes: [/cache]\n    environment: [V=${env}]\n    stop_grace_period: 100ms\n`
    const ctx = { engine }
    const first = await pier.load({ engine, cwd: dir.dir, content: yaml('1') })
    try {
      await compose.up(ctx, first.project)
      await compose.exec(ctx, first.project, 'db', ['sh', '-c', 'echo kept > /cache/a && echo kept > /var/lib/data/b'])
      const anonymous = (await engine.inspectContainer(`${project}-db-1`))!.mounts.filter((m) => m.anonymous).map((m) => m.source).sort()
      assert.equal(anonymous.length, 2, 'one for /cache, one for the image VOLUME /var/lib/data')
      const second = await pier.load({ engine, cwd: dir.dir, content: yaml('2') })
      const result = await compose.up(ctx, second.project)
      assert.ok(result.plan.steps.some((s) => s.reason === 'config changed'), 'db was recreated')
      const read = await compose.exec(ctx, second.project, 'db', ['cat', '/cache/a', '/var/lib/data/b'])
      assert.equal(read.stdout, 'kept\nkept\n')
      assert.deepEqual((await engine.inspectContainer(`${project}-db-1`))!.mounts.filter((m) => m.anonymous).map((m) => m.source).sort(), anonymous)
      await compose.down(ctx, second.project, { volumes: true })
      const left = (await engine.listVolumes({})).map((v) => v.name)
      assert.deepEqual(anonymous.filter((v) => left.includes(v)), [], 'down -v removed the anonymous volumes')
    } finally {
      await compose.down(ctx, first.project, { volumes: true })
    }
  })

  it('start brings dependencies back first; restart takes the restart: true dependents along; pause with nothing to pause is a no-op', async () => {
    const project = name('verbs')
    const loaded = await pier.load({
      engine,
      cwd: dir.dir,
      content: `name: ${project}
x-s: &s {image: busybox, network_mode: none, command: [sleep, "30"], stop_grace_period: 100ms}
services:
  db: *s
  api: {<<: *s, depends_on: {db: {condition: service_started, restart: true}}}
  web: {<<: *s, depends_on: [api]}
  idle: {<<: *s, profiles: [never]}
`,
    })
    const ctx = { engine }
    const state = async () => Object.fromEntries((await engine.listContainers({ 'com.docker.compose.project': project }, { all: true })).map((c) => [c.labels['com.docker.compose.service'], c.state]))
    try {
      await compose.up(ctx, loaded.project)
      await compose.stop(ctx, loaded.project, [], { timeoutMs: 100 })
      assert.deepEqual(await state(), { db: 'exited', api: 'exited', web: 'exited' })
      const started = await compose.start(ctx, loaded.project, ['api'])
      assert.deepEqual(started.map((c) => c.labels['com.docker.compose.service']), ['db', 'api'], 'db first, then api')
      assert.deepEqual(await state(), { db: 'running', api: 'running', web: 'exited' })
      const restarted = await compose.restart(ctx, loaded.project, ['db'], { timeoutMs: 100 })
      assert.deepEqual(restarted.map((c) => c.labels['com.docker.compose.service']), ['db', 'api'], 'api depends on db with restart: true')
      assert.deepEqual(await compose.pause(ctx, loaded.project, ['web']), [], 'nothing running to pause: no error')
    } finally {
      await compose.down(ctx, loaded.project, { stopTimeoutMs: 100 })
    }
  })

  it('up fails, naming the container and why, when a service_healthy dependency is unhealthy or a one-shot fails; dependents are left created', async () => {
    const project = name('deps')
    const loaded = await pier.load({
      engine,
      cwd: dir.dir,
      content: `name: ${project}
x-s: &s {image: busybox, network_mode: none, stop_grace_period: 100ms}
services:
  db: {<<: *s, command: [sleep, "30"], healthcheck: {test: [CMD, "false"], interval: 100ms, retries: 1}}
  web: {<<: *s, command: [sleep, "30"], depends_on: {db: {condition: service_healthy}}}
  init: {<<: *s, command: [sh, -c, "exit 3"], profiles: [jobs]}
  job: {<<: *s, command: ["true"], depends_on: {init: {condition: service_completed_successfully}}, profiles: [jobs]}
`,
      profiles: ['jobs'],
    })
    const ctx = { engine }
    try {
      await assert.rejects(compose.up(ctx, loaded.project, { services: ['web'] }), (e: unknown) => e instanceof compose.StepFailure && /^Container .*-web-1: dependency failed to start: container .*-db-1 is unhealthy$/.test(e.message))
      await assert.rejects(compose.up(ctx, loaded.project, { services: ['job'] }), /service "init" didn't complete successfully: exit 3/)
      assert.equal((await engine.inspectContainer(`${project}-web-1`))?.state, 'created')
    } finally {
      await compose.down(ctx, loaded.project, { stopTimeoutMs: 100 })
    }
  })

  it('--wait fails fast on a crash-looping service, naming the container and its exit code', async () => {
    const project = name('loop')
    const loaded = await pier.load({ engine, cwd: dir.dir, content: `name: ${project}\nservices:\n  crash: {image: busybox, network_mode: none, restart: always, command: [sh, -c, "exit 3"]}\n` })
    const started = Date.now()
    try {
      await assert.rejects(compose.up({ engine }, loaded.project, { wait: true, waitTimeoutMs: 60_000 }), /container .*-crash-1 (exited|is restarting after exiting) \(3\)/)
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
    } finally {
      await compose.down({ engine }, loaded.project, { stopTimeoutMs: 100 })
    }
  })

  it('a recreated container is reachable by name at once: it keeps its address and its MAC, so no peer holds a stale ARP entry', async () => {
    const project = name('arp')
    const yaml = (v: string) => `name: ${project}
services:
  server: {image: busybox, init: true, environment: [V=${v}], command: [sh, -c, "mkdir -p /w; echo ${v} > /w/index.html; exec httpd -f -p 80 -h /w"]}
  client: {image: busybox, init: true, command: [sleep, "60"]}
`
    const ctx = { engine }
    const first = await pier.load({ engine, cwd: dir.dir, content: yaml('one') })
    try {
      await compose.up(ctx, first.project, { wait: true })
      const get = (p: typeof first) => compose.exec(ctx, p.project, 'client', ['timeout', '3', 'wget', '-q', '-O-', 'http://server/'])
      await new Promise((r) => setTimeout(r, 300))
      assert.equal((await get(first)).stdout, 'one\n')
      const before = (await engine.inspectContainer(`${project}-server-1`))!.addresses
      const second = await pier.load({ engine, cwd: dir.dir, content: yaml('two') })
      await compose.up(ctx, second.project, { wait: true })
      assert.deepEqual((await engine.inspectContainer(`${project}-server-1`))!.addresses, before, 'the same address')
      await new Promise((r) => setTimeout(r, 300))
      const after = await get(second)
      assert.equal(after.stdout, 'two\n', `the client reached the new container at once (exit ${after.exitCode}: ${after.stderr})`)
    } finally {
      await compose.down(ctx, first.project, { stopTimeoutMs: 100 })
    }
  })

  it('an aborted up ends with an AbortError and starts nothing more', async () => {
    const project = name('abort')
    const loaded = await pier.load({ engine, cwd: dir.dir, content: `name: ${project}\nservices:\n  a: {image: busybox, network_mode: none, command: [sleep, "30"]}\n` })
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(compose.up({ engine, signal: controller.signal }, loaded.project), (e: unknown) => e instanceof pier.AbortError)
    assert.deepEqual(await engine.listContainers({ 'com.docker.compose.project': project }, { all: true }), [])
  })
})

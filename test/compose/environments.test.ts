import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { up, wait, WaitError } from '../../src/index.js'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { engineWithBusybox } from '../support/containers.js'
import { repoRoot, TempProject } from '../support/helpers.js'

/**
 * Test environments from code (issue 16), as a CI test file writes them:
 * wait strategies on real containers, errors that carry the logs,
 * environments side by side, disposal on a throw, and the reaper after a
 * SIGKILL of the test process.
 */
describe('test environments from code', function () {
  this.timeout(120_000)
  let engine: EmbeddedEngine
  let root: string
  let cleanup: () => Promise<void>
  let dir: TempProject
  const containersOf = async (project: string) => engine.listContainers({ 'com.docker.compose.project': project }, { all: true })

  before(async () => {
    ;({ engine, root, cleanup } = await engineWithBusybox())
    dir = new TempProject({})
  })
  after(async () => {
    dir.cleanup()
    await cleanup()
  })

  it('waits for each service by its own strategy: healthcheck, port, HTTP, log line, command, completion', async () => {
    const content = `x-s: &s {image: busybox, stop_grace_period: 100ms}
services:
  web: {<<: *s, command: [sh, -c, "sleep 1; mkdir -p /w; echo ok > /w/health; exec httpd -f -p 8080 -h /w"], ports: ["127.0.0.1::8080"]}
  tcp: {<<: *s, command: [sh, -c, "sleep 1; exec nc -ll -p 7000 -e cat"]}
  logger: {<<: *s, command: [sh, -c, "while true; do echo tick; sleep 0.2; done"]}
  marker: {<<: *s, command: [sh, -c, "sleep 0.5; touch /tmp/ok; exec sleep 30"]}
  job: {<<: *s, command: [sh, -c, "sleep 0.3; echo done"]}
  db: {<<: *s, command: [sh, -c, "sleep 0.5; touch /tmp/up; exec sleep 30"], healthcheck: {test: [CMD, test, -f, /tmp/up], interval: 100ms, start_period: 5s, start_interval: 100ms}}
`
    const started = Date.now()
    await using env = await up({
      engine,
      cwd: dir.dir,
      content,
      wait: true,
      waitFor: {
        web: wait.forHttp('/health', { port: 8080, body: (t) => t === 'ok\n' }),
        tcp: wait.forPort(7000),
        logger: wait.forLog('tick', { times: 3 }),
        marker: wait.forCommand(['test', '-f', '/tmp/ok']),
        job: wait.forCompletion(),
      },
    })
    assert.ok(Date.now() - started >= 1000, 'web and tcp were waited for')
    assert.equal(await (await fetch(env.service('web').url(8080, '/health'))).text(), 'ok\n')
    assert.equal((await env.container('db')).health, 'healthy')
    assert.equal((await env.container('job')).state, 'exited')
    assert.ok((await env.service('logger').logs()).filter((e) => e.line.text === 'tick').length >= 3)
    assert.equal((await env.service('marker').exec(['cat', '/etc/hostname'])).exitCode, 0)
    // Streamed: the lines so far, then new ones as they come, until the signal.
    const stop = new AbortController()
    const ticks: string[] = []
    for await (const e of env.followLogs(['logger'], { signal: stop.signal })) {
      ticks.push(e.line.text)
      if (ticks.length === 6) stop.abort()
    }
    // The loop ended once the signal aborted (lines already read still came).
    assert.ok(ticks.length >= 6 && ticks.every((t) => t === 'tick'), ticks.join(','))
  })

  it('a failed wait throws a WaitError with the state and the last output, and leaves nothing behind', async () => {
    let project = ''
    const error = await up({
      engine,
      cwd: dir.dir,
      projectName: `pier-env-fail-${process.pid}`,
      content: `services:\n  api: {image: busybox, stop_grace_period: 100ms, command: [sh, -c, "echo booting; echo failed to bind :8080 >&2; exec sleep 30"]}\n`,
      waitFor: { api: wait.forLog('listening', { timeoutMs: 1500 }) },
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    project = `pier-env-fail-${process.pid}`
    assert.ok(error instanceof WaitError, String(error))
    assert.equal(error.service, 'api')
    assert.equal(error.container?.state, 'running')
    assert.deepEqual(error.lastLogs.sort(), ['booting', 'failed to bind :8080'])
    assert.match(error.message, /^service "api" is not ready: no line matching listening within 1\.5 s .*\[running\]\nlast output of/)
    assert.deepEqual(await containersOf(project), [])

    const exited = await up({ engine, cwd: dir.dir, content: `services:\n  api: {image: busybox, command: [sh, -c, "echo oops; exit 2"]}\n`, waitFor: { api: wait.forPort(80, { timeoutMs: 30_000 }) } }).catch((e: unknown) => e)
    assert.ok(exited instanceof WaitError)
    assert.match(exited.message, /it exited with code 2/)
    assert.deepEqual(exited.lastLogs, ['oops'])
  })

  it('runs ten environments of one file side by side, each with its own name, network and ports', async () => {
    const content = `services:\n  web: {image: busybox, init: true, command: [sh, -c, "mkdir -p /w; hostname > /w/index.html; exec httpd -f -p 80 -h /w"], ports: ["127.0.0.1::80"]}\n`
    const envs = await Promise.all(Array.from({ length: 10 }, () => up({ engine, cwd: dir.dir, content, waitFor: { web: wait.forHttp('/', { port: 80 }) } })))
    try {
      assert.equal(new Set(envs.map((e) => e.name)).size, 10)
      assert.equal(new Set(envs.map((e) => e.service('web').port(80))).size, 10)
      assert.equal(new Set(envs.map((e) => e.service('web').address())).size, 10)
      const pages = await Promise.all(envs.map(async (e) => (await fetch(e.service('web').url(80))).text()))
      assert.equal(new Set(pages).size, 10, 'each answered from its own container')
    } finally {
      await Promise.all(envs.map((e) => e.down({ volumes: true })))
    }
    for (const e of envs) assert.deepEqual(await containersOf(e.name), [])
  })

  it('takes the environment down when the test throws inside `await using`', async () => {
    let project = ''
    await assert.rejects(
      (async () => {
        await using env = await up({ engine, cwd: dir.dir, content: `services:\n  a: {image: busybox, init: true, command: [sleep, "30"]}\n` })
        project = env.name
        assert.equal((await containersOf(project)).length, 1)
        throw new Error('the test failed')
      })(),
      /the test failed/,
    )
    assert.deepEqual(await containersOf(project), [])
  })

  it('the reaper removes what a SIGKILLed test process left, within seconds', async () => {
    const script = join(dir.dir, 'killed-test.mjs')
    writeFileSync(
      script,
      `import { up } from ${JSON.stringify(join(repoRoot, 'dist/src/index.js'))}
const env = await up({ root: ${JSON.stringify(root)}, cwd: ${JSON.stringify(dir.dir)}, content: 'services:\\n  a: {image: busybox, init: true, command: [sleep, "300"]}\\n  b: {image: busybox, init: true, command: [sleep, "300"], volumes: [/data]}\\n' })
console.log(env.name)
setInterval(() => {}, 1000)
`,
    )
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const project = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(String(d).trim()))
      child.once('exit', (code) => reject(new Error(`the test process ended first (${code})`)))
    })
    assert.equal((await containersOf(project)).length, 2)
    const killedAt = Date.now()
    child.kill('SIGKILL')
    for (;;) {
      const left = [...(await containersOf(project)), ...(await engine.listNetworks({ 'com.docker.compose.project': project }))]
      if (left.length === 0) break
      assert.ok(Date.now() - killedAt < 20_000, `still there after 20 s: ${left.map((x) => x.name).join(', ')}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    const anonymous = (await engine.listVolumes({})).filter((v) => 'com.docker.volume.anonymous' in v.labels)
    assert.deepEqual(anonymous, [], 'its anonymous volumes went too')
    console.log(`      (reaped ${Date.now() - killedAt} ms after SIGKILL)`)
  })
})

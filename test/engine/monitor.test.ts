import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import type { ContainerSpec } from '../../src/engine/engine.js'
import { collect, engineWithBusybox, specFor, until } from '../support/containers.js'

/** Fails its first run (a marker in /tmp, which survives restarts), then waits, saying bye on TERM. */
const FAIL_ONCE = 'echo run; if [ ! -f /tmp/once ]; then touch /tmp/once; exit 1; fi; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done'

describe('embedded engine: the container monitor', function () {
  this.timeout(60_000)
  let engine: EmbeddedEngine
  let cleanup: () => Promise<void>
  let root: string
  beforeEach(async () => {
    ;({ engine, root, cleanup } = await engineWithBusybox())
  })
  afterEach(async () => {
    await cleanup()
  })

  async function started(name: string, script: string, overrides: Partial<ContainerSpec> = {}): Promise<string> {
    const c = await engine.createContainer(specFor(name, ['sh', '-c', script], overrides))
    await engine.start(c.id)
    return c.id
  }

  const runs = async (id: string) => (await collect(engine.logs(id))).filter((l) => l.text === 'run').length

  it('records an exit only once the last lines written are in the log (a reader takes the exit as the end of it)', async () => {
    // Short-lived containers writing their last lines on both streams as they exit: with the exit
    // recorded at the process's end rather than once its pipes were drained, a line could come after.
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => started(`tm-lastlines-${i}`, 'echo out; echo err >&2; printf tail')))
    for (const id of ids) {
      assert.equal(await engine.wait(id), 0)
      const lines = (await collect(engine.logs(id))).map((l) => `${l.stream}:${l.text}`).sort()
      assert.deepEqual(lines, ['stderr:err', 'stdout:out', 'stdout:tail'])
    }
  })

  it('never reports a finished one-shot exited without its exit code', async () => {
    const id = await started('tm-oneshot', 'sleep 0.3; exit 5')
    // Hold the monitor between the process's end and its write of the exit, as a busy host would.
    const monitorPid = JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')).monitorPid as number
    let after = () => {}
    process.kill(monitorPid, 'SIGSTOP')
    try {
      await new Promise((r) => setTimeout(r, 800))
      const resume = setTimeout(() => process.kill(monitorPid, 'SIGCONT'), 300)
      after = () => clearTimeout(resume)
      const [listed] = await engine.listContainers({}, { all: true })
      const inspected = (await engine.inspectContainer(id))!
      assert.deepEqual([listed.state, listed.exitCode, inspected.state, inspected.exitCode], ['exited', 5, 'exited', 5])
    } finally {
      after()
      process.kill(monitorPid, 'SIGCONT')
    }
  })

  it('after a restart by its policy, stop sends the stop signal to the new process, and kill reaches it', async () => {
    const id = await started('tm-restarted', FAIL_ONCE, { restart: { policy: 'always' }, stopGracePeriodMs: 5000 })
    await until('the restart', async () => (await runs(id)) === 2 && (await engine.inspectContainer(id))!.state === 'running')
    await new Promise((r) => setTimeout(r, 200))
    const begun = Date.now()
    await engine.stop(id)
    assert.ok(Date.now() - begun < 3000, 'stopped by its stop signal, not killed after the grace period')
    const after = (await engine.inspectContainer(id))!
    assert.deepEqual([after.state, after.exitCode], ['exited', 0])
    assert.ok((await collect(engine.logs(id))).some((l) => l.text === 'bye'))

    const other = await started('tm-killed', FAIL_ONCE, { restart: { policy: 'always' } })
    await until('the restart', async () => (await runs(other)) === 2 && (await engine.inspectContainer(other))!.state === 'running')
    await engine.kill(other, 'KILL')
    await engine.wait(other)
    assert.deepEqual([(await engine.inspectContainer(other))!.state, (await engine.inspectContainer(other))!.exitCode], ['exited', 137])
  })

  it('on-failure:N counts from the last start by the user', async () => {
    const id = await started('tm-onfailure', 'echo run; exit 3', { restart: { policy: 'on-failure', maxRetries: 2 } })
    await engine.wait(id)
    assert.equal(await runs(id), 3)
    await engine.start(id)
    await engine.wait(id)
    assert.equal(await runs(id), 6, 'a start runs it once more and allows 2 restarts again')
  })

  it('resets the restart back-off after a run of 10 s or more', async function () {
    this.timeout(40_000)
    // Runs 1-4 fail at once (back-off 100, 200, 400, 800 ms); run 5 lasts 10.3 s; run 6 must follow within ~100 ms, not 1.6 s.
    const script = 'n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; echo "start $n"; if [ $n -eq 5 ]; then sleep 10.3; echo end; fi; if [ $n -ge 6 ]; then sleep 1000; fi; exit 1'
    const id = await started('tm-backoff', script, { restart: { policy: 'on-failure' } })
    await until('run 6', async () => (await collect(engine.logs(id))).some((l) => l.text === 'start 6'), 30_000)
    const lines = await collect(engine.logs(id))
    const at = (text: string) => Date.parse(lines.find((l) => l.text === text)!.time)
    const gap = at('start 6') - at('end')
    assert.ok(gap < 1000, `the back-off was ${gap} ms after a 10 s run`)
  })

  it('notices a killed monitor (dead, no health) and recovers the container at the next start', async () => {
    const id = await started('tm-orphan', 'echo run; sleep 1000', { healthcheck: { test: ['CMD', 'true'], intervalMs: 100, timeoutMs: 1000, retries: 3, startPeriodMs: 0, startIntervalMs: 0 } })
    await until('healthy', async () => (await engine.inspectContainer(id))!.health === 'healthy')
    const state = () => JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')) as { pid: number; monitorPid: number }
    const { pid, monitorPid } = state()
    process.kill(monitorPid, 'SIGKILL')
    await until('the monitor gone', async () => !existsSync(`/proc/${monitorPid}`) || readFileSync(`/proc/${monitorPid}/stat`, 'utf8').includes(') Z'))
    const lost = (await engine.inspectContainer(id))!
    assert.deepEqual([lost.state, lost.health], ['dead', undefined])
    assert.equal((await engine.listContainers({}, {})).length, 0, 'not listed among running containers')
    // follow ends: nothing will append to its log any more.
    assert.deepEqual((await collect(engine.logs(id, { follow: true }))).map((l) => l.text), ['run'])
    await engine.start(id)
    assert.ok(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 'the unwatched process was ended')
    assert.notEqual(state().monitorPid, monitorPid)
    await until('healthy again', async () => (await engine.inspectContainer(id))!.health === 'healthy')
    assert.equal((await engine.inspectContainer(id))!.state, 'running')
    assert.equal(await runs(id), 2)
  })
})

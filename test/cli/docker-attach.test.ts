import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import type { DockerEngine } from '../../src/engine/docker/engine.js'
import { dockerWithBusybox } from '../support/dockerd.js'
import { pierBin, TempProject } from '../support/helpers.js'

/**
 * Attached `up` on dockerd (--engine docker), where a container's log
 * stream ends at each exit rather than when the engine is done with it:
 * still one exit line per run of a restarting container, a one-shot's
 * output before its dependent's, and the first exit deciding the code.
 */
describe('pier --engine docker, attached up', function () {
  this.timeout(120_000)
  const name = `pier-dat-${process.pid}`
  const labels = { 'com.docker.compose.project': name }
  let engine: DockerEngine
  let host: string
  let cleanup: () => Promise<void>
  let work: TempProject
  const run = (args: string[]) => spawnSync(process.execPath, [pierBin, '--engine', 'docker', ...args], { cwd: work.dir, encoding: 'utf8', env: { ...process.env, DOCKER_HOST: host }, timeout: 90_000 })

  before(async function () {
    this.timeout(300_000)
    ;({ engine, host, cleanup } = await dockerWithBusybox(labels, 'docker'))
    work = new TempProject({
      'compose.yaml': `name: ${name}
services:
  app:
    image: busybox
    command: ["sh", "-c", "echo app starts"]
    depends_on: {zinit: {condition: service_completed_successfully}}
  zinit: {image: busybox, command: ["sh", "-c", "echo init one; sleep 0.3; echo init two"]}
  flaky:
    image: busybox
    command: ["sh", "-c", "echo try; exit 3"]
    restart: on-failure:2
`,
    })
  })
  after(async () => {
    try {
      run(['down', '-v', '-t', '0', '--remove-orphans'])
    } finally {
      work?.cleanup()
      await cleanup?.()
    }
  })

  it("prints a one-shot's output before its dependent's, and one exit line per run", async () => {
    const up = run(['up'])
    assert.equal(up.status, 0, up.stderr)
    const lines = up.stdout.split('\n')
    assert.equal(lines[0], 'Attaching to app-1, flaky-1, zinit-1')
    const at = (line: string) => {
      const i = lines.indexOf(line)
      assert.ok(i >= 0, `no line "${line}" in:\n${up.stdout}`)
      return i
    }
    assert.ok(at('zinit-1 | init two') < at('zinit-1 exited with code 0'))
    assert.ok(at('zinit-1 exited with code 0') < at('app-1   | app starts'), up.stdout)
    assert.equal(lines.filter((l) => l === 'flaky-1 | try').length, 3, up.stdout)
    assert.deepEqual(
      lines.filter((l) => l.startsWith('flaky-1 exited')),
      ['flaky-1 exited with code 3 (restarting)', 'flaky-1 exited with code 3 (restarting)', 'flaky-1 exited with code 3'],
    )

    const abort = run(['up', '--abort-on-container-exit', '-t', '1', 'flaky', 'zinit'])
    assert.equal(abort.status, 3, abort.stderr)
    assert.equal(run(['down', '-t', '0']).status, 0)
    assert.deepEqual(await engine.listContainers(labels, { all: true }), [], 'no container left')
  })
})

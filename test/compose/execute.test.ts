import assert from 'node:assert/strict'
import type { Image } from '../../src/engine/engine.js'
import { execute } from '../../src/planner/execute.js'
import { observe } from '../../src/planner/observe.js'
import type { Plan } from '../../src/planner/plan.js'
import { reconcileDown, reconcileUp } from '../../src/planner/reconcile.js'
import { loadProject } from '../../src/spec/load.js'
import type { Project } from '../../src/spec/project.js'
import { engineWithBusybox } from '../support/containers.js'
import { TempProject } from '../support/helpers.js'

const compose = (name: string, extraEnv = '') => `name: ${name}
services:
  init:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "echo ready > /data/flag"]
    volumes: [data:/data]
  db:
    image: busybox
    network_mode: none
    command: ["sleep", "30"]
    stop_grace_period: 200ms
    healthcheck: {test: [CMD, "true"], interval: 200ms, start_period: 2s, start_interval: 100ms}
  web:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "cat /data/flag; sleep 30"]
    environment: [MODE=one${extraEnv}]
    volumes: [data:/data]
    scale: 2
    init: true
    depends_on:
      init: {condition: service_completed_successfully}
      db: {condition: service_healthy}
volumes:
  data:
`

describe('planner: executing plans on the embedded engine', function () {
  this.timeout(60_000)
  it('brings a project up in dependency order, leaves it alone the second time, recreates what changed, and takes it down', async () => {
    const { engine, cleanup } = await engineWithBusybox()
    const dir = new TempProject({})
    const name = `pier-exec-${process.pid}`
    try {
      const load = async (env = '') => {
        dir.write({ 'compose.yaml': compose(name, env) })
        return loadProject({ cwd: dir.dir, environment: {}, onWarning: () => {} })
      }
      const images = async (p: Project): Promise<Record<string, Image>> => Object.fromEntries(await Promise.all(Object.keys(p.services).map(async (s) => [s, (await engine.inspectImage('busybox')) as Image])))
      const up = async (p: Project) => {
        const plan = reconcileUp(p, await observe(engine, p.name), { images: await images(p) })
        const result = await execute(plan, engine)
        assert.deepEqual(result.failures.map((f) => f.error), [])
        return plan
      }

      const first = await load()
      await up(first)
      const state = async () => Object.fromEntries((await engine.listContainers({ 'com.docker.compose.project': name }, { all: true })).map((c) => [c.name, c.state]))
      assert.deepEqual(await state(), { [`${name}-db-1`]: 'running', [`${name}-init-1`]: 'exited', [`${name}-web-1`]: 'running', [`${name}-web-2`]: 'running' })
      const logs: string[] = []
      for await (const l of engine.logs(`${name}-web-1`)) logs.push(l.text)
      assert.deepEqual(logs, ['ready'], 'web ran after init completed')

      // As with Docker Compose, a second up leaves running containers alone and runs the one-shot again.
      assert.deepEqual((await up(first)).steps.map((s) => `${s.action.kind} ${s.reason}`), ['start-container stopped'])

      const changed = await load(', EXTRA=1')
      const plan = await up(changed)
      assert.deepEqual(plan.steps.filter((s) => s.action.kind === 'create-container').map((s) => ('name' in s.action ? s.action.name : '')), [`${name}-web-1`, `${name}-web-2`], 'only web is recreated')

      // A dependency the plan leaves running must still meet its condition.
      const awaitHealthy: Plan = { project: name, warnings: [], steps: [{ id: '1', action: { kind: 'await-service', service: 'init', condition: 'healthy' }, reason: 'dependency condition', after: [] }] }
      const refused = await execute(awaitHealthy, engine, { waitTimeoutMs: 2000 })
      assert.match(refused.failures[0]?.error.message ?? '', /dependency failed to start: container .*-init-1 exited \(0\)/)
      const awaitCompleted: Plan = { ...awaitHealthy, steps: [{ ...awaitHealthy.steps[0], action: { kind: 'await-service', service: 'init', condition: 'completed' } }] }
      assert.deepEqual((await execute(awaitCompleted, engine)).failures, [])

      const down = reconcileDown(changed, await observe(engine, name), { volumes: true })
      assert.deepEqual((await execute(down, engine)).failures, [])
      assert.deepEqual(await engine.listContainers({ 'com.docker.compose.project': name }, { all: true }), [])
      assert.deepEqual((await engine.listVolumes()).map((v) => v.name), [])
    } finally {
      dir.cleanup()
      await cleanup()
    }
  })
})

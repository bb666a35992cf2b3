import assert from 'node:assert/strict'
import type { EngineCapabilities, Image } from '../../src/engine/engine.js'
import { LABEL } from '../../src/labels.js'
import { PlanError } from '../../src/planner/errors.js'
import { formatPlanGraph } from '../../src/planner/plan.js'
import { reconcileDown, reconcileRun, reconcileUp, selectServices, type ObservedState } from '../../src/planner/reconcile.js'
import type { Project } from '../../src/spec/project.js'
import { load } from '../support/helpers.js'

const img: Image = { id: 'sha256:x', tags: [], digests: [], platform: { os: 'linux', architecture: 'amd64' }, size: 0, layers: [], config: { env: [], cmd: ['sh'], exposedPorts: [], volumes: [], labels: {} } }
const empty: ObservedState = { containers: [], networks: [], volumes: [] }
const images = (p: Project) => Object.fromEntries(Object.keys(p.services).map((s) => [s, img]))

const app = `name: app
services:
  db:
    image: db
    healthcheck: {test: [CMD, "true"]}
  migrate:
    image: m
    depends_on: {db: {condition: service_healthy}}
  web:
    image: w
    depends_on:
      migrate: {condition: service_completed_successfully}
      cache: {condition: service_healthy, required: false}
  cache:
    image: c
    profiles: [extra]
  other:
    image: o
`

async function project(yaml = app): Promise<Project> {
  return (await load({ 'compose.yaml': yaml })).project
}

describe('planner: plans as data (golden)', () => {
  it('plans up with every edge and condition, as pinned here', async () => {
    const p = await project()
    assert.equal(
      formatPlanGraph(reconcileUp(p, empty, { images: images(p) })),
      `[1] create-network app_default (new)
[2] create-container app-db-1 (new) <- 1:done
[3] start-container app-db-1 (new) <- 2:done, 1:done
[4] create-container app-migrate-1 (new) <- 1:done, 3:done
[5] start-container app-migrate-1 (new) <- 4:done, 1:done, 3:healthy
[6] create-container app-other-1 (new) <- 1:done
[7] start-container app-other-1 (new) <- 6:done, 1:done
[8] create-container app-web-1 (new) <- 1:done, 5:done
[9] start-container app-web-1 (new) <- 8:done, 1:done, 5:completed
`,
    )
  })

  it('selects the named services and what they need, once, for every later stage', async () => {
    const p = await project()
    assert.deepEqual(selectServices(p, ['web']), ['db', 'migrate', 'web'])
    assert.deepEqual(selectServices(p, ['web'], true), ['web'])
    assert.deepEqual(selectServices(p), ['db', 'migrate', 'other', 'web'])
  })

  it('run waits for its dependencies\' conditions before the one-off, and leaves the service\'s own replicas alone', async () => {
    const p = await project()
    assert.equal(
      formatPlanGraph(reconcileRun(p, empty, 'migrate', { images: images(p) })),
      `[1] create-network app_default (new)
[2] create-container app-db-1 (new) <- 1:done
[3] start-container app-db-1 (new) <- 2:done, 1:done
[4] await-service db healthy (dependency condition) <- 3:done
`,
    )
    // Already running: the condition must still hold.
    const running: ObservedState = { ...empty, networks: ['app_default'], containers: [{ id: 'd', name: 'app-db-1', running: true, labels: { [LABEL.project]: 'app', [LABEL.service]: 'db', [LABEL.number]: '1', [LABEL.oneoff]: 'False', [LABEL.configHash]: 'old' } }] }
    assert.match(formatPlanGraph(reconcileRun(p, running, 'migrate', { images: images(p) })), /await-service db healthy/)
    assert.equal(formatPlanGraph(reconcileRun(p, empty, 'migrate', { images: images(p), noDeps: true })), '[1] create-network app_default (new)\n')
  })

  it('marks a required: false dependency optional: its failure is a warning', async () => {
    const p = await project(app.replace('profiles: [extra]', ''))
    const plan = reconcileUp(p, empty, { images: images(p) })
    const web = plan.steps.find((s) => s.action.kind === 'start-container' && s.action.name === 'app-web-1')!
    assert.ok(web.after.some((a) => a.optional && a.condition === 'healthy'), formatPlanGraph(plan))
  })

  it('refuses a field the engine cannot honour before planning anything, and warns about ignored ones', async () => {
    const p = await project(`name: app\nservices:\n  web: {image: w, gpus: all, uts: host}\n  log: {image: w, logging: {driver: syslog}, uts: host}\n`)
    const caps: EngineCapabilities = { fields: { gpus: { action: 'refuse', why: 'no GPUs here' }, logging: { action: 'warn', accepts: (v) => (v as { driver: string }).driver === 'json-file' } } }
    assert.throws(() => reconcileUp(p, empty, { images: images(p), capabilities: caps }), (err: unknown) => err instanceof PlanError && /service "web": gpus "all" is not supported by this engine \(no GPUs here\): remove it, or use another engine/.test(err.message))
    const plan = reconcileUp(p, empty, { images: images(p), capabilities: caps, services: ['log'] })
    assert.deepEqual(plan.warnings, ['service "log": uts is not supported by pier yet and is ignored', 'service "log": logging is not supported by this engine; it is ignored'])
  })

  it('down removes anonymous volumes with -v; one-offs only with --remove-orphans, a running one keeping its network', async () => {
    const p = await project()
    const labels = (service: string, oneoff = 'False') => ({ [LABEL.project]: 'app', [LABEL.service]: service, [LABEL.number]: '1', [LABEL.oneoff]: oneoff })
    const observed: ObservedState = {
      networks: ['app_default'],
      volumes: [],
      containers: [
        { id: 'a', name: 'app-db-1', running: true, labels: labels('db') },
        { id: 'b', name: 'app-db-run-1', running: true, labels: labels('db', 'True') },
      ],
    }
    const plain = reconcileDown(p, observed, { volumes: true })
    assert.equal(formatPlanGraph(plain), '[1] stop-container app-db-1 (down)\n[2] remove-container app-db-1 (down) <- 1:done\n')
    assert.deepEqual(plain.warnings, ['Network app_default: Resource is still in use by app-db-run-1, so it is kept (one-offs go with "down --remove-orphans")'])
    const plan = reconcileDown(p, observed, { volumes: true, removeOrphans: true })
    assert.equal(
      formatPlanGraph(plan),
      '[1] stop-container app-db-1 (down)\n[2] remove-container app-db-1 (down) <- 1:done\n[3] stop-container app-db-run-1 (down)\n[4] remove-container app-db-run-1 (down) <- 3:done\n[5] remove-network app_default (down) <- 2:done, 4:done\n',
    )
    assert.deepEqual(plan.steps[1].action, { kind: 'remove-container', service: 'db', name: 'app-db-1', id: 'a', volumes: true })
    assert.ok(!('volumes' in reconcileDown(p, observed).steps[1].action), 'without -v the anonymous volumes stay')
  })
})

import assert from 'node:assert/strict'
import { PlanError } from '../../src/planner/errors.js'
import { DependencyGraph } from '../../src/planner/graph.js'
import { configHash } from '../../src/planner/hash.js'
import { LABEL } from '../../src/labels.js'
import { formatPlan, type Plan } from '../../src/planner/plan.js'
import { reconcileDown, reconcileUp, type ObservedContainer, type ObservedState, type UpOptions } from '../../src/planner/reconcile.js'
import type { Image } from '../../src/engine/engine.js'
import type { Project } from '../../src/spec/project.js'
import { load } from '../support/helpers.js'

const shop = `name: shop
services:
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
    healthcheck: {test: [CMD, "true"]}
  api:
    image: api
    depends_on:
      db: {condition: service_healthy, restart: true}
  web:
    image: web
    depends_on: [api]
    scale: 2
volumes:
  data:
`

async function project(yaml = shop): Promise<Project> {
  return (await load({ 'compose.yaml': yaml })).project
}

/** What the engine would report after a successful `up` of `p`. */
function upState(p: Project, change: (c: ObservedContainer) => ObservedContainer = (c) => c): ObservedState {
  const containers: ObservedContainer[] = []
  for (const s of Object.values(p.services)) {
    for (let n = 1; n <= (s.scale ?? 1); n++) {
      containers.push(
        change({
          id: `${s.name}-${n}-id`,
          name: `${p.name}-${s.name}-${n}`,
          running: true,
          labels: { [LABEL.project]: p.name, [LABEL.service]: s.name, [LABEL.number]: String(n), [LABEL.oneoff]: 'False', [LABEL.configHash]: configHash(s) },
        }),
      )
    }
  }
  return { containers, networks: Object.values(p.networks).map((n) => n.name), volumes: Object.values(p.volumes).map((v) => v.name) }
}

/** An image as the engine would report it: a command, nothing else. */
export function fakeImage(id = 'sha256:x'): Image {
  return { id, tags: [], digests: [], platform: { os: 'linux', architecture: 'amd64' }, size: 0, layers: [], config: { env: [], cmd: ['sh'], exposedPorts: [], volumes: [], labels: {} } }
}

/** reconcileUp with an image resolved for every service (`imageIds` picks some IDs). */
function planUp(p: Project, observed: ObservedState, options: Omit<UpOptions, 'images'> & { imageIds?: Record<string, string> } = {}): Plan {
  const { imageIds, ...rest } = options
  return reconcileUp(p, observed, { ...rest, images: Object.fromEntries(Object.keys(p.services).map((s) => [s, fakeImage(imageIds?.[s])])) })
}

const empty: ObservedState = { containers: [], networks: [], volumes: [] }
const kinds = (plan: Plan) => plan.steps.map((s) => `${s.action.kind} ${'name' in s.action ? s.action.name : (s.action as { service: string }).service}`)

/** Every step waits only for steps before it: the plan's order is one the executor can run. */
function assertOrdered(plan: Plan): void {
  const seen = new Set<string>()
  for (const step of plan.steps) {
    for (const dep of step.after) assert.ok(seen.has(dep.step), `step ${step.id} waits for later step ${dep.step}`)
    seen.add(step.id)
  }
}

describe('planner: reconcile', () => {
  it('plans a first up: network, volume, then containers in dependency order with their conditions', async () => {
    const p = await project()
    const plan = planUp(p, empty)
    assertOrdered(plan)
    assert.deepEqual(kinds(plan), [
      'create-network shop_default',
      'create-volume shop_data',
      'create-container shop-db-1',
      'start-container shop-db-1',
      'create-container shop-api-1',
      'start-container shop-api-1',
      'create-container shop-web-1',
      'start-container shop-web-1',
      'create-container shop-web-2',
      'start-container shop-web-2',
    ])
    // api is created once db is, and started once db is healthy (so an unhealthy db leaves api created, as in Compose).
    const apiCreate = plan.steps.find((s) => s.action.kind === 'create-container' && s.action.service === 'api')!
    assert.deepEqual(apiCreate.after.map((a) => a.condition).sort(), ['done', 'done'])
    const apiStart = plan.steps.find((s) => s.action.kind === 'start-container' && s.action.service === 'api')!
    assert.deepEqual(apiStart.after.map((a) => a.condition).sort(), ['done', 'done', 'healthy'])
    assert.match(formatPlan(plan), /^create network shop_default\s+\(new\)\n/)
  })

  it('creates without starting (create, up --no-start): ordered by creation only, waiting on no condition', async () => {
    const p = await project()
    const plan = planUp(p, empty, { noStart: true })
    assertOrdered(plan)
    assert.deepEqual(kinds(plan), ['create-network shop_default', 'create-volume shop_data', 'create-container shop-db-1', 'create-container shop-api-1', 'create-container shop-web-1', 'create-container shop-web-2'])
    assert.ok(plan.steps.every((s) => s.after.every((a) => a.condition === 'done')))
    // db already runs: api is created without waiting for db's health either.
    const running = upState(p)
    const withoutApi = { ...running, containers: running.containers.filter((c) => c.labels['com.docker.compose.service'] !== 'api') }
    assert.deepEqual(kinds(planUp(p, withoutApi, { noStart: true })), ['create-container shop-api-1'])
  })

  it('changes nothing when everything is up to date, and says so', async () => {
    const p = await project()
    const plan = planUp(p, upState(p))
    assert.deepEqual(plan.steps, [])
    assert.match(formatPlan({ ...plan, steps: [] }), /nothing to do/)
  })

  it('recreates the changed service, and what depends on it with restart: true, nothing else', async () => {
    const before = await project()
    const after = await project(shop.replace('image: postgres', 'image: postgres\n    environment: [X=1]'))
    const plan = planUp(after, upState(before))
    assertOrdered(plan)
    assert.deepEqual(kinds(plan), [
      'stop-container shop-db-1',
      'remove-container shop-db-1',
      'create-container shop-db-1',
      'start-container shop-db-1',
      'stop-container shop-api-1',
      'remove-container shop-api-1',
      'create-container shop-api-1',
      'start-container shop-api-1',
    ])
    assert.deepEqual([...new Set(plan.steps.map((s) => s.reason))], ['config changed', 'dependency recreated'])
  })

  it('starts stopped containers, recreates on a new image or when forced, never with --no-recreate', async () => {
    const p = await project()
    const stopped = planUp(p, upState(p, (c) => (c.name === 'shop-web-2' ? { ...c, running: false } : c)))
    assert.deepEqual(kinds(stopped), ['start-container shop-web-2'])
    const newImage = planUp(p, upState(p, (c) => ({ ...c, labels: { ...c.labels, [LABEL.image]: 'sha256:old' } })), { imageIds: { web: 'sha256:new' } })
    assert.deepEqual(new Set(newImage.steps.map((s) => s.reason)), new Set(['image changed']))
    assert.equal(planUp(p, upState(p), { forceRecreate: true }).steps.filter((s) => s.action.kind === 'create-container').length, 4)
    const changed = await project(shop.replace('image: web', 'image: web2'))
    assert.deepEqual(planUp(changed, upState(p), { noRecreate: true }).steps, [])
  })

  it('scales down from the highest number, and up with --scale', async () => {
    const p = await project()
    assert.deepEqual(kinds(planUp(p, upState(p), { scale: { web: 1 } })), ['stop-container shop-web-2', 'remove-container shop-web-2'])
    assert.deepEqual(kinds(planUp(p, upState(p), { scale: { web: 3 } })), ['create-container shop-web-3', 'start-container shop-web-3'])
  })

  it('warns about orphans, and removes them with --remove-orphans; never touches another project', async () => {
    const p = await project()
    const state = upState(p)
    state.containers.push({ id: 'old', name: 'shop-old-1', running: true, labels: { [LABEL.project]: 'shop', [LABEL.service]: 'old', [LABEL.number]: '1' } })
    state.containers.push({ id: 'other', name: 'other-db-1', running: true, labels: { [LABEL.project]: 'other', [LABEL.service]: 'db', [LABEL.number]: '1' } })
    const warned = planUp(p, state)
    assert.deepEqual(warned.steps, [])
    assert.equal(warned.warnings[0], 'Found orphan containers (shop-old-1) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.')
    assert.deepEqual(kinds(planUp(p, state, { removeOrphans: true })), ['stop-container shop-old-1', 'remove-container shop-old-1'])
  })

  it('starts only the named services and what they need, or only them with --no-deps', async () => {
    const p = await project()
    const withDeps = planUp(p, empty, { services: ['api'] })
    assert.deepEqual(kinds(withDeps).filter((k) => k.startsWith('start')), ['start-container shop-db-1', 'start-container shop-api-1'])
    const alone = planUp(p, upState(p, (c) => (c.labels[LABEL.service] === 'api' ? { ...c, running: false } : c)), { services: ['api'], noDeps: true })
    assert.deepEqual(kinds(alone), ['await-service db', 'start-container shop-api-1'])
  })

  it('plans down: dependents stop first, then networks, and volumes with -v', async () => {
    const p = await project()
    const plan = reconcileDown(p, upState(p), { volumes: true })
    assertOrdered(plan)
    const order = kinds(plan).filter((k) => k.startsWith('stop'))
    assert.ok(order.indexOf('stop-container shop-web-1') < order.indexOf('stop-container shop-api-1'))
    assert.ok(order.indexOf('stop-container shop-api-1') < order.indexOf('stop-container shop-db-1'))
    assert.deepEqual(kinds(plan).slice(-2), ['remove-network shop_default', 'remove-volume shop_data'])
    assert.ok(!kinds(reconcileDown(p, upState(p))).includes('remove-volume shop_data'))
  })

  it('refuses a dependency cycle, spelling it out', async () => {
    const cyclic = `services:\n  web: {image: x, depends_on: [api]}\n  api: {image: x, depends_on: [db]}\n  db: {image: x, links: [web]}\n`
    await assert.rejects(
      (async () => DependencyGraph.of(await project(cyclic)))(),
      (err: unknown) => err instanceof PlanError && /^dependency cycle: api -> db -> web -> api; remove one of these dependencies$/.test(err.message),
    )
  })

  it('plans any valid random project in an order that respects every dependency', async () => {
    let seed = 42
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (let round = 0; round < 60; round++) {
      const count = 2 + Math.floor(random() * 12)
      const names = Array.from({ length: count }, (_, i) => `s${i}`)
      const shuffled = [...names].sort(() => random() - 0.5)
      const lines = ['services:']
      const conditions = ['service_started', 'service_healthy', 'service_completed_successfully']
      for (let i = 0; i < count; i++) {
        // Depend only on services earlier in a random order: acyclic, but not in name order.
        const deps = shuffled.slice(0, shuffled.indexOf(names[i])).filter(() => random() < 0.4)
        lines.push(`  ${names[i]}:`, '    image: x', `    scale: ${1 + Math.floor(random() * 3)}`)
        if (deps.length) lines.push('    depends_on:', ...deps.map((d) => `      ${d}: {condition: ${conditions[Math.floor(random() * 3)]}}`))
      }
      const p = await project(lines.join('\n') + '\n')
      const plan = planUp(p, empty)
      assertOrdered(plan)
      const startedAt = new Map(plan.steps.filter((s) => s.action.kind === 'start-container').map((s, i) => [(s.action as { name: string }).name, i]))
      for (const service of Object.values(p.services)) {
        for (let n = 1; n <= (service.scale ?? 1); n++) assert.ok(startedAt.has(`${p.name}-${service.name}-${n}`), `${service.name} ${n} is started`)
        for (const dep of Object.keys(service.depends_on)) {
          const depStart = Math.max(...[...startedAt].filter(([k]) => k.startsWith(`${p.name}-${dep}-`)).map(([, i]) => i))
          const mine = Math.min(...[...startedAt].filter(([k]) => k.startsWith(`${p.name}-${service.name}-`)).map(([, i]) => i))
          assert.ok(depStart < mine, `${dep} starts before ${service.name}`)
        }
      }
      assert.deepEqual(planUp(p, upState(p)).steps, [], 'a second up does nothing')
    }
  })
})

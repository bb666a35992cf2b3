import assert from 'node:assert/strict'
import { LABEL } from '../../src/labels.js'
import { PlanError } from '../../src/planner/errors.js'
import { formatPlanGraph } from '../../src/planner/plan.js'
import { reconcileDown, reconcileUp, type ObservedContainer, type ObservedState } from '../../src/planner/reconcile.js'
import { load } from '../support/helpers.js'
import { fakeImage } from './reconcile.test.js'

/**
 * The planner's side of Compose v5's rules for down SERVICE, orphans
 * (exited one-offs among them) and shared volumes/namespaces: pure, no
 * engine. The CLI tests (test/cli/compose-parity.test.ts) run them for real.
 */
const yaml = `name: app
services:
  db: {image: d, networks: [back]}
  api: {image: a, depends_on: [db], networks: [back, front]}
  web: {image: w, depends_on: [api], networks: [front]}
  tools: {image: t, volumes_from: [db], network_mode: "service:db"}
networks:
  back:
  front:
`
const project = async () => (await load({ 'compose.yaml': yaml })).project
const container = (service: string, extra: Partial<ObservedContainer> = {}, oneoff = false): ObservedContainer => ({
  id: `${service}${oneoff ? '-run' : ''}-id`,
  name: `app-${service}-${oneoff ? 'run-1' : '1'}`,
  running: true,
  state: 'running',
  labels: { [LABEL.project]: 'app', [LABEL.service]: service, [LABEL.number]: '1', [LABEL.oneoff]: oneoff ? 'True' : 'False' },
  ...extra,
})
const state = (containers: ObservedContainer[]): ObservedState => ({ containers, networks: ['app_back', 'app_front'], volumes: [] })
const removed = (s: string) => s.split('\n').filter((l) => / remove-/.test(l)).map((l) => l.replace(/^\[\d+\] /, '').replace(/ \(.*$/, ''))

describe('planner: Compose v5 rules for down, orphans and shared namespaces', () => {
  it('down SERVICE takes that service and what depends on it, and keeps a network the rest still uses, saying so', async () => {
    const p = await project()
    const plan = reconcileDown(p, state([container('db'), container('api'), container('web')]), { services: ['api'] })
    assert.deepEqual(removed(formatPlanGraph(plan)), ['remove-container app-web-1', 'remove-container app-api-1', 'remove-network app_front'])
    assert.deepEqual(plan.warnings, ['Network app_back: Resource is still in use by app-db-1, so it is kept'])
  })

  it('down SERVICE --remove-orphans also takes that service\'s one-offs and the orphans, not other services\' running one-offs', async () => {
    const p = await project()
    const observed = state([container('db'), container('db', {}, true), container('web'), container('web', {}, true), container('gone')])
    const plan = reconcileDown(p, observed, { services: ['web'], removeOrphans: true })
    assert.deepEqual(removed(formatPlanGraph(plan)).sort(), ['remove-container app-gone-1', 'remove-container app-web-1', 'remove-container app-web-run-1', 'remove-network app_front'])
  })

  it('a plain down leaves one-offs and warns about orphans in Compose\'s words; an exited one-off counts as one', async () => {
    const p = await project()
    const exitedRun = container('db', { running: false, state: 'exited' }, true)
    const plan = reconcileDown(p, state([container('db'), exitedRun, container('gone', { running: false, state: 'exited' })]))
    // app_back stays: the one-off still has an address in it.
    assert.deepEqual(removed(formatPlanGraph(plan)), ['remove-container app-db-1', 'remove-network app_front'])
    assert.ok(plan.warnings.some((w) => w.startsWith('Network app_back: Resource is still in use by app-db-run-1')))
    assert.ok(plan.warnings.includes('Found orphan containers (app-db-run-1, app-gone-1) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.'), plan.warnings.join('\n'))
  })

  it('up warns about an exited one-off, not a running one; --remove-orphans removes it; COMPOSE_IGNORE_ORPHANS silences it', async () => {
    const p = await project()
    const images = Object.fromEntries(Object.keys(p.services).map((s) => [s, fakeImage()]))
    const observed = state([container('db', { running: false, state: 'exited' }, true), container('api', {}, true)])
    assert.deepEqual(reconcileUp(p, observed, { images, services: ['db'] }).warnings, [
      'Found orphan containers (app-db-run-1) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.',
    ])
    assert.ok(removed(formatPlanGraph(reconcileUp(p, observed, { images, services: ['db'], removeOrphans: true }))).includes('remove-container app-db-run-1'))
    assert.deepEqual(reconcileUp(p, observed, { images, services: ['db'], ignoreOrphans: true }).warnings, [])
  })

  it('up --no-deps refuses a service whose volumes_from or network_mode donor has no container, before planning anything', async () => {
    const p = await project()
    const images = Object.fromEntries(Object.keys(p.services).map((s) => [s, fakeImage()]))
    assert.throws(
      () => reconcileUp(p, state([]), { images, services: ['tools'], noDeps: true }),
      (err: unknown) => err instanceof PlanError && err.message === 'cannot share volume with service db: container missing (create it with "pier up -d db")',
    )
    // A stopped donor is there to share from; with its dependencies, the plan makes it.
    assert.doesNotThrow(() => reconcileUp(p, state([container('db', { running: false, state: 'exited' })]), { images, services: ['tools'], noDeps: true }))
    assert.doesNotThrow(() => reconcileUp(p, state([]), { images, services: ['tools'] }))
  })
})

import assert from 'node:assert/strict'
import { EngineProject } from '../support/engine-project.js'
import type { TempProject } from '../support/helpers.js'
import { assertNothingLeft } from '../support/containers.js'

describe('pier up, ps and down', function () {
  this.timeout(60_000)
  let project: EngineProject
  let work: TempProject
  let root: string
  const run = (args: string[], input?: string) => project.run(args, input)

  beforeEach(async () => {
    project = await EngineProject.create({
      'compose.yaml': `name: pier-cli-${process.pid}
services:
  db:
    image: busybox
    network_mode: none
    command: ["sleep", "30"]
    init: true
    healthcheck: {test: [CMD, "true"], interval: 200ms, start_period: 2s, start_interval: 100ms}
  web:
    image: busybox
    network_mode: none
    command: ["sleep", "30"]
    init: true
    depends_on:
      db: {condition: service_healthy}
`,
    })
    ;({ work, root } = project)
  })
  afterEach(() => project.dispose(['down', '-v']))

  it('brings the project up, lists it, changes nothing the second time, and takes it down', () => {
    const dry = run(['up', '-d', '--dry-run'])
    assert.equal(dry.status, 0, dry.stderr)
    assert.match(dry.stdout, /^create container pier-cli-\d+-db-1\s+\(new\)\nstart container pier-cli-\d+-db-1\s+\(new\)\ncreate container pier-cli-\d+-web-1/)

    const up = run(['up', '-d'])
    assert.equal(up.status, 0, up.stderr)
    assert.match(up.stderr, /Container pier-cli-\d+-db-1\s+Started\n/)
    assert.match(up.stderr, /Container pier-cli-\d+-web-1\s+Started\n/)

    const ps = JSON.parse(run(['ps', '--format', 'json']).stdout) as { Service: string; Status: string }[]
    assert.deepEqual(ps.map((c) => [c.Service, c.Status]), [['db', 'Running (healthy)'], ['web', 'Running']])
    assert.equal(run(['ps', '--services']).stdout, 'db\nweb\n')

    const again = run(['up', '-d'])
    assert.equal(again.status, 0)
    assert.match(again.stderr, /is up to date\n$/)

    const ids = run(['ps', '-q']).stdout.trim().split('\n')
    const down = run(['down'])
    assert.equal(down.status, 0, down.stderr)
    assert.match(down.stderr, /Container pier-cli-\d+-web-1\s+Removed\n/)
    assert.equal(run(['ps', '-a', '-q']).stdout, '')
    for (const id of ids) assertNothingLeft(root, id)
  })

  it('waits for healthy services with --wait, and stops within -t on down', () => {
    const up = run(['up', '--wait'])
    assert.equal(up.status, 0, up.stderr)
    const ps = JSON.parse(run(['ps', '--format', 'json']).stdout) as { Service: string; Status: string }[]
    assert.deepEqual(ps.map((c) => c.Status), ['Running (healthy)', 'Running'], 'healthy as soon as up --wait returns')
    assert.match(run(['up', '--wait', '--wait-timeout', 'soon']).stderr, /^error: invalid --wait-timeout "soon": give a number of seconds/)
    const down = run(['down', '-t', '1'])
    assert.equal(down.status, 0, down.stderr)
  })

  it('reads -v after down as volumes, and alone as the version', () => {
    assert.equal(run(['up', '-d']).status, 0)
    const plan = run(['down', '-v', '--dry-run'])
    assert.equal(plan.status, 0, plan.stderr)
    assert.match(plan.stdout, /^stop container pier-cli-\d+-web-1/)
    assert.match(run(['-v']).stdout, /^\d+\.\d+\.\d+\n$/)
    assert.match(run(['--version']).stdout, /^\d+\.\d+\.\d+\n$/)
    assert.match(run(['version', '--short']).stdout, /^\d+\.\d+\.\d+\n$/)
    const v = JSON.parse(run(['version', '--format', 'json']).stdout) as { version: string; engine: { name: string } }
    assert.equal(v.engine.name, 'embedded')
  })

  it('create makes the containers without starting them; start starts them', () => {
    const create = run(['create', '--progress', 'plain'])
    assert.equal(create.status, 0, create.stderr)
    assert.doesNotMatch(create.stderr, /Starting/)
    const status = () => (JSON.parse(run(['ps', '-a', '--format', 'json']).stdout) as { Status: string }[]).map((c) => c.Status.split(' ')[0])
    assert.deepEqual(status(), ['Created', 'Created'])
    assert.equal(run(['start', 'db']).status, 0)
    assert.deepEqual(status(), ['Running', 'Created'])
  })

  it('refuses a bad --scale with one clear line', () => {
    const unknown = run(['up', '-d', '--scale', 'nope=2'])
    assert.match(unknown.stderr, /^error: no such service: nope/, 'in Compose\'s words')
    assert.equal(unknown.status, 1)
    const malformed = run(['up', '-d', '--scale', 'web=two'])
    assert.match(malformed.stderr, /^error: invalid --scale "web=two": expected SERVICE=NUMBER/)
    assert.equal(malformed.status, 1)
  })
})

import assert from 'node:assert/strict'
import { EngineProject } from '../support/engine-project.js'
import { psJson, shortStatus, type TempProject } from '../support/helpers.js'
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

    const ps = psJson(run(['ps', '--format', 'json']).stdout)
    assert.deepEqual(ps.map((c) => [c.Service, shortStatus(c)]), [['db', 'Running (healthy)'], ['web', 'Running']])
    assert.equal(run(['ps', '--services']).stdout, 'db\nweb\n')
    // Compose's fields, words and formats.
    const [db] = ps as unknown as Record<string, unknown>[]
    for (const field of ['ID', 'Name', 'Image', 'Project', 'Service', 'State', 'Status', 'Health', 'ExitCode', 'Publishers', 'Labels', 'RunningFor', 'CreatedAt']) assert.ok(field in db, `ps json has ${field}`)
    assert.match(String(db.Status), /^Up (Less than a second|\d+ seconds?) \(healthy\)$/)
    assert.match(run(['ps']).stdout, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS\n/)
    assert.match(run(['ps', '--format', '{{.Service}}\t{{.State}}']).stdout, /^db\trunning\nweb\trunning\n$/)
    assert.equal(run(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Name}}']).stdout, '')
    assert.match(run(['ps', '--format', '{{.Nope}}']).stderr, /^error: unknown ps field "Nope": use one of ID, Name/)

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
    const ps = psJson(run(['ps', '--format', 'json']).stdout)
    assert.deepEqual(ps.map((c) => shortStatus(c)), ['Running (healthy)', 'Running'], 'healthy as soon as up --wait returns')
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
    const status = () => (psJson(run(['ps', '-a', '--format', 'json']).stdout)).map((c) => shortStatus(c).split(' ')[0])
    assert.deepEqual(status(), ['Created', 'Created'])
    assert.equal(run(['start', 'db']).status, 0)
    assert.deepEqual(status(), ['Running', 'Created'])
  })

  it('scale sets replica counts and recreates nothing else; down --rmi local removes the images it built', () => {
    work.write({
      'compose.override.yaml': `services:\n  built:\n    build: {context: /bin, dockerfile_inline: "FROM busybox\\nLABEL built=yes\\n"}\n    network_mode: none\n    command: [sleep, "30"]\n    init: true\n`,
    })
    assert.equal(run(['up', '-d']).status, 0)
    const before = psJson(run(['ps', '--format', 'json']).stdout).map((c) => c.ID)
    const scaled = run(['scale', 'web=3'])
    assert.equal(scaled.status, 0, scaled.stderr)
    const after = psJson(run(['ps', '--format', 'json']).stdout)
    assert.deepEqual(after.filter((c) => c.Service === 'web').map((c) => c.Name.replace(/^pier-cli-\d+-/, '')), ['web-1', 'web-2', 'web-3'])
    assert.ok(before.every((id) => after.some((c) => c.ID === id)), 'nothing was recreated')
    assert.match(run(['scale', 'web']).stderr, /^error: invalid scale "web": expected SERVICE=NUMBER/)
    const down = run(['down', '--rmi', 'local', '-t', '0'])
    assert.equal(down.status, 0, down.stderr)
    assert.match(down.stderr, /Image pier-cli-\d+-built {2}Removed/)
    assert.deepEqual(run(['images', '-q']).stdout.trim().split('\n').length, 1, 'busybox stays, the built image is gone')
    assert.match(run(['down', '--rmi', 'some']).stderr, /^error: invalid --rmi "some": use all or local/)
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

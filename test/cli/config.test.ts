import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { pier, TempProject } from '../support/helpers.js'

const compose = `name: shop
services:
  web:
    image: "nginx:\${TAG:-1.25}"
    ports: ["127.0.0.1:8080:80", "443"]
    environment: [MODE=prod, DEBUG]
    volumes: ["static:/srv", "./conf:/etc/conf:ro"]
    depends_on: [api]
    healthcheck:
      test: curl -f localhost
      interval: 90s
    mem_limit: 1g
    extra_hosts: ["db:10.0.0.1"]
  api:
    build: ./api
    command: serve --port 80
    profiles: [backend]
  tools:
    image: tools
    profiles: [ops]
volumes:
  static:
`

describe('pier config', () => {
  let tmp: TempProject
  beforeEach(() => {
    tmp = new TempProject({ 'compose.yaml': compose })
  })
  afterEach(() => tmp.cleanup())

  it('prints the normalized project in the shape docker compose config prints', () => {
    const result = pier(['config', '--profile', 'backend'], { cwd: tmp.dir, env: { DEBUG: '1' } })
    assert.equal(result.status, 0, result.stderr)
    const doc = parse(result.stdout)
    assert.deepEqual(Object.keys(doc), ['name', 'services', 'networks', 'volumes'])
    assert.deepEqual(Object.keys(doc.services), ['api', 'web'], 'services in name order; tools stays disabled')
  })

  it('keeps the order of documents stable and the values canonical', () => {
    const result = pier(['config', '--profile', 'backend'], { cwd: tmp.dir, env: { DEBUG: '1' } })
    assert.equal(result.status, 0, result.stderr)
    const web = parse(result.stdout).services.web
    assert.equal(web.image, 'nginx:1.25')
    assert.deepEqual(web.ports, [
      { mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'tcp' },
      { mode: 'ingress', target: 443, protocol: 'tcp' },
    ])
    assert.deepEqual(web.environment, { MODE: 'prod', DEBUG: '1' })
    assert.deepEqual(web.volumes, [
      { type: 'volume', source: 'static', target: '/srv', volume: {} },
      { type: 'bind', source: tmp.path('conf'), target: '/etc/conf', read_only: true, bind: { create_host_path: true } },
    ])
    assert.deepEqual(web.depends_on, { api: { condition: 'service_started', required: true } })
    assert.deepEqual(web.healthcheck, { test: ['CMD-SHELL', 'curl -f localhost'], interval: '1m30s' })
    assert.equal(web.mem_limit, '1073741824')
    assert.deepEqual(web.extra_hosts, ['db=10.0.0.1'])
    assert.deepEqual(web.networks, { default: null })
    const api = parse(result.stdout).services.api
    assert.deepEqual(api.command, ['serve', '--port', '80'])
    assert.deepEqual(api.build, { context: tmp.path('api'), dockerfile: 'Dockerfile' })
  })

  it('prints JSON with --format json', () => {
    const result = pier(['config', '--format', 'json', '--profile', 'backend'], { cwd: tmp.dir })
    assert.equal(result.status, 0, result.stderr)
    const doc = JSON.parse(result.stdout)
    assert.equal(doc.name, 'shop')
    assert.equal(doc.networks.default.name, 'shop_default')
    assert.equal(doc.volumes.static.name, 'shop_static')
  })

  it('lists services, volumes, networks, profiles and images', () => {
    const opts = { cwd: tmp.dir }
    assert.equal(pier(['config', '--services', '--profile', '*'], opts).stdout, 'api\ntools\nweb\n')
    assert.equal(pier(['config', '--volumes', '--profile', 'backend'], opts).stdout, 'static\n')
    assert.equal(pier(['config', '--networks', '--profile', 'backend'], opts).stdout, 'default\n')
    assert.equal(pier(['config', '--profiles'], opts).stdout, 'backend\nops\n')
    assert.equal(pier(['config', '--images', '--profile', 'backend'], opts).stdout, 'shop-api\nnginx:1.25\n')
  })

  it('prints only the named services and their dependencies', () => {
    const result = pier(['config', '--services', 'web'], { cwd: tmp.dir })
    assert.equal(result.status, 1, 'api is in a disabled profile')
    assert.match(result.stderr, /depends on "api", which is not enabled: enable its profile with --profile backend/)
    const doc = parse(pier(['config', 'api'], { cwd: tmp.dir }).stdout)
    assert.deepEqual(Object.keys(doc.services), ['api'])
  })

  it('validates only with -q and writes to a file with -o', () => {
    const quiet = pier(['config', '-q', '--profile', 'backend'], { cwd: tmp.dir })
    assert.deepEqual([quiet.status, quiet.stdout], [0, ''])
    const out = pier(['config', '--profile', 'backend', '-o', 'out.yaml'], { cwd: tmp.dir })
    assert.deepEqual([out.status, out.stdout], [0, ''])
    assert.equal(parse(readFileSync(tmp.path('out.yaml'), 'utf8')).name, 'shop')
  })

  it('prints the merged model as written with --no-interpolate and --no-normalize', () => {
    const raw = parse(pier(['config', '--no-interpolate', '--profile', 'backend'], { cwd: tmp.dir }).stdout)
    assert.equal(raw.services.web.image, 'nginx:${TAG:-1.25}')
    assert.deepEqual(raw.services.web.ports, ['127.0.0.1:8080:80', '443'])
    const plain = parse(pier(['config', '--no-normalize', '--profile', 'backend'], { cwd: tmp.dir }).stdout)
    assert.equal(plain.services.web.image, 'nginx:1.25')
    assert.deepEqual(plain.services.web.depends_on, ['api'])
  })

  it('reads the project from standard input with -f -', () => {
    const result = pier(['-f', '-', 'config', '--services'], { cwd: tmp.dir, input: 'services:\n  one:\n    image: x\n' })
    assert.equal(result.stdout, 'one\n')
  })

  it('honours -p, --project-directory and --env-file', () => {
    tmp.write({ 'alt.env': 'TAG=from-env-file\n', 'sub/.keep': '' })
    const result = pier(['-p', 'other', '--env-file', 'alt.env', 'config', '--format', 'json', '--profile', 'backend'], { cwd: tmp.dir })
    const doc = JSON.parse(result.stdout)
    assert.equal(doc.name, 'other')
    assert.equal(doc.services.web.image, 'nginx:from-env-file')
    const moved = JSON.parse(pier(['-f', 'compose.yaml', '--project-directory', 'sub', 'config', '--format', 'json', '--profile', 'backend'], { cwd: tmp.dir }).stdout)
    assert.equal(moved.services.api.build.context, tmp.path('sub', 'api'))
  })
})

describe('pier errors, as a user sees them', () => {
  let tmp: TempProject
  afterEach(() => tmp.cleanup())

  it('prints one line, exits 1, no stack trace, and writes nothing', () => {
    tmp = new TempProject({ 'compose.yaml': 'services:\n  web:\n    imgae: x\n' })
    const result = pier(['config', '-o', 'out.yaml'], { cwd: tmp.dir })
    assert.equal(result.status, 1)
    assert.equal(result.stderr, 'error: compose.yaml:3:5: services.web.imgae: unknown key "imgae": did you mean "image"?\n')
    assert.equal(result.stdout, '')
    assert.equal(existsSync(tmp.path('out.yaml')), false)
  })

  it('shows the stack only with --verbose', () => {
    tmp = new TempProject({ 'compose.yaml': 'services: [\n' })
    const result = pier(['--verbose', 'config'], { cwd: tmp.dir })
    assert.equal(result.status, 1)
    assert.match(result.stderr, /^error: compose\.yaml:\d+:\d+: invalid YAML/)
    assert.match(result.stderr, /\n\s+at /)
  })

  it('suggests the closest command or flag', () => {
    tmp = new TempProject({})
    const command = pier(['confg'], { cwd: tmp.dir })
    assert.equal(command.status, 1)
    assert.match(command.stderr, /unknown command 'confg'[\s\S]*Did you mean config\?/)
    const flag = pier(['config', '--servics'], { cwd: tmp.dir })
    assert.equal(flag.status, 1)
    assert.match(flag.stderr, /unknown option '--servics'[\s\S]*Did you mean --services\?/)
  })

  it('rejects an unknown output format', () => {
    tmp = new TempProject({ 'compose.yaml': 'services: {}\n' })
    const result = pier(['config', '--format', 'xml'], { cwd: tmp.dir })
    assert.deepEqual([result.status, result.stderr], [1, 'error: unknown format "xml": use yaml, json or kubernetes\n'])
  })
})

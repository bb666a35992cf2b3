import assert from 'node:assert/strict'
import { load } from '../support/helpers.js'

/** Loads compose.yaml with compose.override.yaml (found by discovery) on top. */
async function merged(base: string, override: string) {
  const { project } = await load({ 'compose.yaml': base, 'compose.override.yaml': override })
  return project
}

describe('merging files', () => {
  it('merges mappings, replaces scalars and appends plain lists', async () => {
    const p = await merged(
      'services:\n  web:\n    image: a\n    dns: [1.1.1.1]\n    cap_add: [NET_ADMIN]\n',
      'services:\n  web:\n    image: b\n    dns: [8.8.8.8, 1.1.1.1]\n    cap_add: [SYS_TIME]\n  extra:\n    image: c\n',
    )
    assert.equal(p.services.web.image, 'b')
    assert.deepEqual(p.services.web.dns, ['1.1.1.1', '8.8.8.8'])
    assert.deepEqual(p.services.web.cap_add, ['NET_ADMIN', 'SYS_TIME'])
    assert.deepEqual(Object.keys(p.services), ['extra', 'web'])
  })

  it('merges environment and labels by key, whichever syntax each file uses', async () => {
    const p = await merged(
      'services:\n  web:\n    image: a\n    environment: [A=1, B=2]\n    labels: {x: "1"}\n',
      'services:\n  web:\n    environment:\n      B: three\n      C: "4"\n    labels: ["y=2", "x=9"]\n',
    )
    assert.deepEqual(p.services.web.environment, { A: '1', B: 'three', C: '4' })
    assert.deepEqual(p.services.web.labels, { x: '9', y: '2' })
  })

  it('merges ports by address and volumes by container target', async () => {
    const p = await merged(
      'services:\n  web:\n    image: a\n    ports: ["8080:80", "9000:9000"]\n    volumes: ["data:/data", "./a:/a"]\nvolumes:\n  data: {}\n  other: {}\n',
      'services:\n  web:\n    ports: ["8080:80", "127.0.0.1:7000:7000"]\n    volumes: ["other:/data"]\n',
    )
    assert.deepEqual(p.services.web.ports.map((x) => `${x.host_ip ?? ''}:${x.published}:${x.target}`), [':8080:80', ':9000:9000', '127.0.0.1:7000:7000'])
    assert.deepEqual(p.services.web.volumes.map((v) => `${v.type}:${v.target}`), ['volume:/data', 'bind:/a'])
    assert.equal((p.services.web.volumes[0] as { source: string }).source, 'other')
  })

  it('replaces command, entrypoint and healthcheck.test instead of appending', async () => {
    const p = await merged(
      'services:\n  web:\n    image: a\n    command: [a, b]\n    entrypoint: x\n    healthcheck:\n      test: [CMD, one]\n      retries: 5\n',
      'services:\n  web:\n    command: [c]\n    entrypoint: [y, z]\n    healthcheck:\n      test: [CMD, two]\n',
    )
    assert.deepEqual(p.services.web.command, ['c'])
    assert.deepEqual(p.services.web.entrypoint, ['y', 'z'])
    assert.deepEqual(p.services.web.healthcheck, { test: ['CMD', 'two'], retries: 5 })
  })

  it('merges depends_on and networks by name', async () => {
    const p = await merged(
      'services:\n  web:\n    image: a\n    depends_on: [db]\n    networks: [front]\n  db:\n    image: d\n  cache:\n    image: c\nnetworks:\n  front: {}\n  back: {}\n',
      'services:\n  web:\n    depends_on:\n      cache:\n        condition: service_healthy\n    networks:\n      back:\n        aliases: [w]\n',
    )
    assert.deepEqual(p.services.web.depends_on, {
      db: { condition: 'service_started', required: true },
      cache: { condition: 'service_healthy', required: true },
    })
    assert.deepEqual(p.services.web.networks, { front: null, back: { aliases: ['w'] } })
  })

  it('drops a value with !reset and replaces one with !override', async () => {
    const p = await merged(
      'services:\n  web:\n    image: a\n    ports: ["80:80"]\n    environment: {A: "1", B: "2"}\n    build: ./app\n',
      'services:\n  web:\n    ports: !reset []\n    environment: !override {C: "3"}\n    build: !reset null\n',
    )
    assert.deepEqual(p.services.web.ports, [])
    assert.deepEqual(p.services.web.environment, { C: '3' })
    assert.equal(p.services.web.build, undefined)
  })

  it('merges -f files in order, later winning', async () => {
    const { project } = await load(
      { 'a.yaml': 'services:\n  web:\n    image: a\n', 'b.yaml': 'services:\n  web:\n    image: b\n', 'c.yaml': 'services:\n  web:\n    hostname: h\n' },
      { files: ['a.yaml', 'b.yaml', 'c.yaml'] },
    )
    assert.equal(project.services.web.image, 'b')
    assert.equal(project.services.web.hostname, 'h')
  })

  it('supports YAML anchors, aliases and merge keys; x- extensions are kept', async () => {
    const { project } = await load({
      'compose.yaml': `x-common: &common
  restart: always
  environment:
    SHARED: "yes"
services:
  web:
    <<: *common
    image: web
  api:
    <<: *common
    image: api
    restart: "no"
`,
    })
    assert.equal(project.services.web.restart, 'always')
    assert.equal(project.services.api.restart, 'no')
    assert.deepEqual(project.services.api.environment, { SHARED: 'yes' })
    assert.deepEqual(project.extensions['x-common'], { restart: 'always', environment: { SHARED: 'yes' } })
  })
})

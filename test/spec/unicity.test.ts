import assert from 'node:assert/strict'
import { load } from '../support/helpers.js'

/** Duplicates inside a file or across files are merged as Compose merges them (compose-go's EnforceUnicity), never refused. */
describe('duplicates merged as Compose merges them', () => {
  const web = (extra: string) => `services:\n  web:\n    image: a\n${extra}`

  it('keeps one of repeated ports, whichever syntax', async () => {
    const { project } = await load({ 'compose.yaml': web('    ports: ["80:80", "80:80", "0.0.0.0:80:80", "81:81"]\n') })
    assert.deepEqual(project.services.web.ports.map((p) => `${p.host_ip ?? ''}:${p.published}:${p.target}`), ['0.0.0.0:80:80', ':81:81'])
  })

  it('keeps one port where a range overlaps a single port', async () => {
    const { project } = await load({ 'compose.yaml': web('    ports: ["8000-8001:80-81", "8000:80"]\n') })
    assert.deepEqual(project.services.web.ports.map((p) => `${p.published}:${p.target}`), ['8000:80', '8001:81'])
  })

  it('keeps one of overlapping network aliases and link-local IPs, across files', async () => {
    const { project } = await load({
      'compose.yaml': web('    networks:\n      default:\n        aliases: [a, b, a]\n        link_local_ips: [169.254.1.1, 169.254.1.1]\n'),
      'compose.override.yaml': 'services:\n  web:\n    networks:\n      default:\n        aliases: [b, c]\n',
    })
    assert.deepEqual(project.services.web.networks?.default, { aliases: ['a', 'b', 'c'], link_local_ips: ['169.254.1.1'] })
  })

  it('keys volumes by target: a later src:/foo replaces .:/foo in its place', async () => {
    const { project } = await load({
      'compose.yaml': web('    volumes: [".:/foo", "data:/data"]\nvolumes:\n  src: {}\n  data: {}\n'),
      'compose.override.yaml': 'services:\n  web:\n    volumes: ["src:/foo/"]\n',
    })
    assert.deepEqual(project.services.web.volumes.map((v) => `${v.type}:${'source' in v ? v.source : ''}:${v.target}`), ['volume:src:/foo', 'volume:data:/data'])
  })

  it('keys secrets by where they land: /run/secrets/<source> or the target', async () => {
    const { project } = await load({
      'compose.yaml': web('    secrets: [s, {source: t, target: /run/secrets/s}, {source: t, target: /other}]\nsecrets:\n  s: {file: ./a}\n  t: {file: ./b}\n'),
    })
    assert.deepEqual(project.services.web.secrets, [{ source: 't', target: '/run/secrets/s' }, { source: 't', target: '/other' }])
  })

  it('merges ipam.config by subnet and labels written as a list with labels written as a map', async () => {
    const { project } = await load({
      'compose.yaml': web('') + 'networks:\n  front:\n    labels: [a=1, b=2]\n    ipam:\n      config:\n        - {subnet: 10.1.0.0/16, gateway: 10.1.0.1}\n        - {subnet: 10.2.0.0/16}\nvolumes:\n  data:\n    labels: {x: "1"}\n',
      'compose.override.yaml': 'networks:\n  front:\n    labels: {b: three}\n    ipam:\n      config:\n        - {subnet: 10.1.0.0/16, ip_range: 10.1.5.0/24}\n        - {subnet: 10.3.0.0/16}\nvolumes:\n  data:\n    labels: ["y=2"]\n',
    })
    assert.deepEqual(project.networks.front.labels, { a: '1', b: 'three' })
    assert.deepEqual(project.networks.front.ipam?.config, [
      { subnet: '10.1.0.0/16', gateway: '10.1.0.1', ip_range: '10.1.5.0/24' },
      { subnet: '10.2.0.0/16' },
      { subnet: '10.3.0.0/16' },
    ])
    assert.deepEqual(project.volumes.data.labels, { x: '1', y: '2' })
  })

  it('keeps every address of a host in extra_hosts', async () => {
    const { project } = await load({
      'compose.yaml': web('    extra_hosts: ["h=1.2.3.4,5.6.7.8", "g:10.0.0.1"]\n'),
      'compose.override.yaml': 'services:\n  web:\n    extra_hosts: {h: 9.9.9.9, g: 10.0.0.1}\n',
    })
    assert.deepEqual(project.services.web.extra_hosts, { h: ['1.2.3.4', '5.6.7.8', '9.9.9.9'], g: ['10.0.0.1'] })
  })

  it('ignores an empty override file, but not an empty first file', async () => {
    const { project } = await load({ 'compose.yaml': web(''), 'compose.override.yaml': '# nothing yet\n' })
    assert.equal(project.services.web.image, 'a')
  })

  it('merges the documents of a multi-document file in order', async () => {
    const { project } = await load({ 'compose.yaml': web('    environment: [A=1]\n') + '---\nservices:\n  web:\n    environment: [B=2]\n  db:\n    image: d\n' })
    assert.deepEqual(project.services.web.environment, { A: '1', B: '2' })
    assert.deepEqual(Object.keys(project.services), ['db', 'web'])
  })

  it('accepts a sequence of mappings under <<, the first one winning', async () => {
    const { project } = await load({ 'compose.yaml': 'x-a: &a {restart: always, init: true}\nx-b: &b {restart: "no", tty: true}\nservices:\n  web:\n    <<: [*a, *b]\n    image: a\n' })
    assert.equal(project.services.web.restart, 'always')
    assert.equal(project.services.web.init, true)
    assert.equal(project.services.web.tty, true)
  })
})

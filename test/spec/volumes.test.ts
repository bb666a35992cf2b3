import assert from 'node:assert/strict'
import { homedir } from 'node:os'
import { load, loadFails } from '../support/helpers.js'

const mounts = async (...entries: string[]) => {
  const { project } = await load({
    'compose.yaml': `services:\n  web:\n    image: x\n    volumes:\n${entries.map((e) => `      - ${e}\n`).join('')}volumes:\n  data: {}\n`,
  })
  return { mounts: project.services.web.volumes, dir: project.workingDir }
}

describe('volumes (service mounts)', () => {
  it('reads an anonymous volume, a named volume and bind mounts', async () => {
    const { mounts: m, dir } = await mounts('/cache', 'data:/data:ro,nocopy', './src:/src:rw,z', '~/conf:/conf', '/etc/hosts:/h:ro,rshared')
    assert.deepEqual(m, [
      { type: 'volume', target: '/cache', volume: {} },
      { type: 'volume', source: 'data', target: '/data', volume: { nocopy: true }, read_only: true },
      { type: 'bind', source: `${dir}/src`, target: '/src', bind: { create_host_path: true, selinux: 'z' } },
      { type: 'bind', source: `${homedir()}/conf`, target: '/conf', bind: { create_host_path: true } },
      { type: 'bind', source: '/etc/hosts', target: '/h', bind: { create_host_path: true, propagation: 'rshared' }, read_only: true },
    ])
  })

  it('reads the long form, casting booleans and sizes', async () => {
    const { mounts: m, dir } = await mounts(
      '{type: bind, source: ./a, target: /a, read_only: "true", bind: {create_host_path: false}}',
      '{type: tmpfs, target: /tmp, tmpfs: {size: 64m, mode: 1777}}',
      '{type: volume, source: data, target: /d, volume: {subpath: sub}}',
    )
    assert.deepEqual(m, [
      { type: 'bind', source: `${dir}/a`, target: '/a', read_only: true, bind: { create_host_path: false } },
      { type: 'tmpfs', target: '/tmp', tmpfs: { size: 64 * 1024 * 1024, mode: 1777 } },
      { type: 'volume', source: 'data', target: '/d', volume: { subpath: 'sub' } },
    ])
  })

  it('requires named volumes to be declared, and says how', async () => {
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    volumes: ["dta:/d"]\nvolumes:\n  data: {}\n' }, [
      /services\.web\.volumes\[0\]: service "web" uses the volume "dta", which is not declared: add it under the top-level volumes: \(or did you mean "data"\?\)/,
    ])
  })

  it('rejects a bad mode, a relative target and an empty source', async () => {
    const one = (v: string) => ({ 'compose.yaml': `services:\n  web:\n    image: x\n    volumes: ["${v}"]\n` })
    await loadFails(one('./a:/a:rx'), [/invalid volume mode "rx"/])
    await loadFails(one('./a:rel'), [/the target "rel" must be an absolute path/])
    await loadFails(one(':/media'), [/invalid volume ":\/media": expected SOURCE:TARGET/])
  })
})

describe('top-level volumes and networks', () => {
  it('names resources <project>_<key> unless name: or external', async () => {
    const { project } = await load({
      'compose.yaml': `name: app
services:
  web:
    image: x
    networks: [front, ext]
networks:
  front:
    driver: bridge
    internal: "true"
    ipam:
      config:
        - subnet: 172.28.0.0/16
  ext:
    external: true
  named:
    name: custom
volumes:
  data:
  old:
    external:
      name: legacy
  fixed:
    name: fixed-name
    labels: [a=b]
`,
    })
    assert.deepEqual(project.networks, {
      ext: { external: true, name: 'ext' },
      front: { driver: 'bridge', internal: true, ipam: { config: [{ subnet: '172.28.0.0/16' }] }, name: 'app_front' },
      named: { name: 'custom' },
    })
    assert.deepEqual(project.volumes, {
      data: { name: 'app_data' },
      fixed: { labels: { a: 'b' }, name: 'fixed-name' },
      old: { external: true, name: 'legacy' },
    })
  })

  it('adds the default network only when a service uses it', async () => {
    const uses = await load({ 'compose.yaml': 'services:\n  web:\n    image: x\n' })
    assert.deepEqual(uses.project.networks, { default: { name: 'proj_default' } })
    assert.deepEqual(uses.project.services.web.networks, { default: null })
    const none = await load({ 'compose.yaml': 'services:\n  web:\n    image: x\n    network_mode: host\n' })
    assert.deepEqual(none.project.networks, {})
  })

  it('rejects an undeclared network, and networks with network_mode', async () => {
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    networks: [nope]\n' }, [/uses the network "nope", which is not declared/])
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n' }, [/network_mode and networks exclude each other/])
  })
})

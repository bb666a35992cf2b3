import assert from 'node:assert/strict'
import { loadFails, service } from '../support/helpers.js'

const ports = async (...entries: string[]) => (await service(`services:\n  web:\n    image: x\n    ports:\n${entries.map((e) => `      - ${e}\n`).join('')}`)).ports

describe('ports', () => {
  it('reads every short form', async () => {
    assert.deepEqual(await ports('"80"'), [{ mode: 'ingress', target: 80, protocol: 'tcp' }])
    assert.deepEqual(await ports('80'), [{ mode: 'ingress', target: 80, protocol: 'tcp' }])
    assert.deepEqual(await ports('8080:80'), [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }])
    assert.deepEqual(await ports('"127.0.0.1:8080:80/udp"'), [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'udp' }])
    assert.deepEqual(await ports('"127.0.0.1::80"'), [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, protocol: 'tcp' }])
    assert.deepEqual(await ports('"[::1]:8080:80"'), [{ mode: 'ingress', host_ip: '::1', target: 80, published: '8080', protocol: 'tcp' }])
  })

  it('reads 22:22 unquoted as a string, not a base-60 number', async () => {
    assert.deepEqual(await ports('22:22'), [{ mode: 'ingress', target: 22, published: '22', protocol: 'tcp' }])
  })

  it('expands ranges one port per entry, or keeps a host range for one container port', async () => {
    assert.deepEqual((await ports('"8000-8002:80-82"')).map((p) => `${p.published}->${p.target}`), ['8000->80', '8001->81', '8002->82'])
    assert.deepEqual((await ports('"3000-3001"')).map((p) => p.target), [3000, 3001])
    assert.deepEqual(await ports('"9000-9010:80"'), [{ mode: 'ingress', target: 80, published: '9000-9010', protocol: 'tcp' }])
  })

  it('reads the long form, with a numeric target and a string published', async () => {
    assert.deepEqual(await ports('{target: "80", published: 8080, host_ip: 0.0.0.0, protocol: UDP, mode: host, name: web, app_protocol: http}'), [
      { mode: 'host', name: 'web', host_ip: '0.0.0.0', target: 80, published: '8080', protocol: 'udp', app_protocol: 'http' },
    ])
  })

  it('rejects malformed ports with the entry named', async () => {
    const yaml = (p: string) => ({ 'compose.yaml': `services:\n  web:\n    image: x\n    ports:\n      - "80"\n      - "${p}"\n` })
    await loadFails(yaml('80:abc'), [/compose\.yaml:6:9: services\.web\.ports\[1\]: invalid port "80:abc": "abc" is not a port number or range/])
    await loadFails(yaml('70000:80'), [/ports are 0 to 65535/])
    await loadFails(yaml('80/icmp'), [/invalid protocol "icmp": use tcp, udp or sctp/])
    await loadFails(yaml('8000-8001:80-82'), [/the host range and the container range must have the same length/])
  })
})

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { Readable } from 'node:stream'
import type { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import type { ContainerSpec, NetworkAttachment } from '../../src/engine/engine.js'
import { macFor } from '../../src/network/attach.js'
import { engineWithBusybox, specFor } from '../support/containers.js'
import { busyboxLayer, configFor, dockerArchive, getentLayer } from '../support/images.js'

/** A network attachment with the service's name as alias, as the planner makes them. */
const on = (network: string, aliases: string[] = [], extra: Partial<NetworkAttachment> = {}): NetworkAttachment => ({ network, aliases, ...extra })

const serve = (name: string, networks: NetworkAttachment[], overrides: Partial<ContainerSpec> = {}) =>
  specFor(name, ['sh', '-c', `mkdir -p /www && echo "hello from ${name}" > /www/index.html && exec httpd -f -p 80 -h /www`], { networkMode: 'bridge', networks, ...overrides })

const idle = (name: string, networks: NetworkAttachment[], overrides: Partial<ContainerSpec> = {}) => specFor(name, ['sleep', '600'], { networkMode: 'bridge', networks, ...overrides })

async function sh(engine: EmbeddedEngine, container: string, script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await engine.exec(container, { argv: ['sh', '-c', script] })
  return { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

async function run(engine: EmbeddedEngine, spec: ContainerSpec): Promise<string> {
  const c = await engine.createContainer(spec)
  await engine.start(c.id)
  return c.id
}

describe('embedded engine: bridge networks', function () {
  this.timeout(60_000)
  let env: Awaited<ReturnType<typeof engineWithBusybox>>
  let engine: EmbeddedEngine
  const project = `nt${process.pid}`

  before(async () => {
    env = await engineWithBusybox()
    engine = env.engine
    const layers = [await busyboxLayer(), await getentLayer()]
    await engine.loadImages(Readable.from(await dockerArchive([{ tags: ['netbox:latest'], layers, config: configFor(layers) }])))
  })
  afterEach(async () => {
    for (const c of await engine.listContainers({}, { all: true })) await engine.remove(c.id, { force: true, volumes: true })
    for (const n of await engine.listNetworks({})) await engine.removeNetwork(n.name)
  })
  after(async () => env.cleanup())

  it('gives two containers addresses on one bridge; each reaches the other by service name, container name and alias', async () => {
    const net = await engine.createNetwork({ name: `${project}_default`, internal: false, enableIpv6: false, labels: { 'com.docker.compose.project': project } })
    assert.match(net.subnets[0].subnet, /^\d+\.\d+\.\d+\.0\/24$/)
    await run(engine, serve(`${project}-web-1`, [on(net.name, ['web', 'www'])]))
    await run(engine, idle(`${project}-client-1`, [on(net.name, ['client'])]))
    for (const name of ['web', 'www', `${project}-web-1`]) {
      const r = await sh(engine, `${project}-client-1`, `timeout 5 wget -q -O- http://${name}/`)
      assert.equal(r.stdout, `hello from ${project}-web-1\n`, `${name}: ${r.stderr}`)
    }
    // nc over a raw TCP port, and the other direction.
    const client = await engine.inspectContainer(`${project}-client-1`)
    assert.match(client!.addresses[net.name], /^\d+\.\d+\.\d+\.\d+$/)
    const listener = engine.exec(`${project}-client-1`, { argv: ['sh', '-c', 'nc -l -p 7000 > /tmp/got'] })
    await new Promise((r) => setTimeout(r, 300))
    assert.equal((await sh(engine, `${project}-web-1`, 'echo ping-over-nc | nc -w 2 client 7000')).exitCode, 0)
    await listener
    assert.equal((await sh(engine, `${project}-client-1`, 'cat /tmp/got')).stdout, 'ping-over-nc\n')
    // Loopback is up inside.
    assert.equal((await sh(engine, `${project}-web-1`, 'timeout 5 wget -q -O- http://127.0.0.1/')).stdout, `hello from ${project}-web-1\n`)
  })

  it('isolates two networks: no name, no route between them; a container on both reaches each', async () => {
    const a = await engine.createNetwork({ name: `${project}_a`, internal: false, enableIpv6: false, labels: {} })
    const b = await engine.createNetwork({ name: `${project}_b`, internal: false, enableIpv6: false, labels: {} })
    assert.notEqual(a.subnets[0].subnet, b.subnets[0].subnet)
    await run(engine, serve(`${project}-left-1`, [on(a.name, ['left'])]))
    await run(engine, serve(`${project}-right-1`, [on(b.name, ['right'])]))
    await run(engine, idle(`${project}-both-1`, [on(a.name, ['both']), on(b.name, ['both'])], { image: 'netbox' }))
    const rightIp = (await engine.inspectContainer(`${project}-right-1`))!.addresses[b.name]
    const unresolved = await sh(engine, `${project}-left-1`, 'timeout 2 wget -q -O- http://right/')
    assert.notEqual(unresolved.exitCode, 0)
    assert.match(unresolved.stderr, /bad address/)
    assert.notEqual((await sh(engine, `${project}-left-1`, `timeout 2 wget -q -O- http://${rightIp}/`)).exitCode, 0)
    assert.equal((await sh(engine, `${project}-both-1`, 'timeout 5 wget -q -O- http://left/')).stdout, `hello from ${project}-left-1\n`)
    assert.equal((await sh(engine, `${project}-both-1`, 'timeout 5 wget -q -O- http://right/')).stdout, `hello from ${project}-right-1\n`)
  })

  it('resolves a scaled service to every replica, and follows containers as they come and go', async () => {
    const net = await engine.createNetwork({ name: `${project}_default`, internal: false, enableIpv6: false, labels: {} })
    for (const n of [1, 2, 3]) await run(engine, serve(`${project}-api-${n}`, [on(net.name, ['api'])]))
    await run(engine, idle(`${project}-probe-1`, [on(net.name, ['probe'])], { image: 'netbox' }))
    const addresses = async () => {
      const out = (await sh(engine, `${project}-probe-1`, '/usr/bin/getent ahostsv4 api')).stdout
      return [...new Set(out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]))].sort()
    }
    const expected = await Promise.all([1, 2, 3].map(async (n) => (await engine.inspectContainer(`${project}-api-${n}`))!.addresses[net.name]))
    assert.deepEqual(await addresses(), [...expected].sort())
    await engine.remove(`${project}-api-2`, { force: true })
    assert.deepEqual(await addresses(), [expected[0], expected[2]].sort())
    await run(engine, serve(`${project}-api-4`, [on(net.name, ['api'])]))
    assert.equal((await addresses()).length, 3)
    // The gateway's MAC is the bridge's own, derived from its address, whoever joins: a bridge left
    // to the kernel takes its lowest port MAC, so a joining container could move it under the others.
    const link = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', net.bridge!], { encoding: 'utf8' })) as { address: string }[]
    assert.equal(link[0].address, macFor(net.subnets[0].gateway))
  })

  it('honours ipam subnet, ip_range and gateway, ipv4_address, mac_address; links and extra_hosts resolve', async () => {
    const net = await engine.createNetwork({ name: `${project}_fixed`, internal: false, enableIpv6: false, labels: {}, ipam: [{ subnet: '10.251.7.0/24', ipRange: '10.251.7.128/25', gateway: '10.251.7.254' }] })
    assert.deepEqual(net.subnets, [{ subnet: '10.251.7.0/24', gateway: '10.251.7.254' }])
    await run(engine, serve(`${project}-db-1`, [on(net.name, ['db'], { ipv4Address: '10.251.7.10', macAddress: '02:42:0a:fb:07:0a' })]))
    await run(engine, idle(`${project}-app-1`, [on(net.name, ['app'])], { links: [`${project}-db-1:database`], extraHosts: { 'outside.example': ['192.0.2.7'] } }))
    assert.equal((await engine.inspectContainer(`${project}-db-1`))!.addresses[net.name], '10.251.7.10')
    assert.match((await engine.inspectContainer(`${project}-app-1`))!.addresses[net.name], /^10\.251\.7\.(12[89]|1[3-9]\d|2[0-4]\d|25[0-3])$/)
    assert.match((await sh(engine, `${project}-db-1`, 'cat /sys/class/net/eth0/address')).stdout, /02:42:0a:fb:07:0a/)
    assert.match((await sh(engine, `${project}-app-1`, 'ip route')).stdout, /default via 10\.251\.7\.254/)
    assert.equal((await sh(engine, `${project}-app-1`, 'timeout 5 wget -q -O- http://database/')).stdout, `hello from ${project}-db-1\n`)
    assert.match((await sh(engine, `${project}-app-1`, 'cat /etc/hosts')).stdout, /192\.0\.2\.7\toutside\.example/)
    // The address is taken: a second container asking for it is refused, and nothing is left of it.
    const clash = await engine.createContainer(idle(`${project}-other-1`, [on(net.name, [], { ipv4Address: '10.251.7.10' })]))
    await assert.rejects(engine.start(clash.id), /address 10\.251\.7\.10 is already in use in network/)
    await assert.rejects(
      engine.createNetwork({ name: `${project}_overlap`, internal: false, enableIpv6: false, labels: {}, ipam: [{ subnet: '10.251.7.0/25' }] }),
      /overlaps 10\.251\.7\.0\/24/,
    )
  })

  it('keeps an internal network internal: members reach each other, not the host', async () => {
    const net = await engine.createNetwork({ name: `${project}_private`, internal: true, enableIpv6: false, labels: {} })
    await run(engine, serve(`${project}-a-1`, [on(net.name, ['a'])]))
    await run(engine, idle(`${project}-b-1`, [on(net.name, ['b'])]))
    assert.equal((await sh(engine, `${project}-b-1`, 'timeout 5 wget -q -O- http://a/')).stdout, `hello from ${project}-a-1\n`)
    assert.doesNotMatch((await sh(engine, `${project}-b-1`, 'ip route')).stdout, /default/)
    const host = createServer((s) => s.end('host\n')).listen(0, '0.0.0.0')
    await new Promise((r) => host.once('listening', r))
    try {
      const port = (host.address() as { port: number }).port
      assert.notEqual((await sh(engine, `${project}-b-1`, `timeout 2 wget -q -O- http://${net.subnets[0].gateway}:${port}/`)).exitCode, 0)
    } finally {
      host.close()
    }
  })

  it('publishes ports on the host: fixed, random, a range, 127.0.0.1 only, udp; a taken port fails the start naming it', async () => {
    const net = await engine.createNetwork({ name: `${project}_default`, internal: false, enableIpv6: false, labels: {} })
    const web = await run(
      engine,
      serve(`${project}-web-1`, [on(net.name, ['web'])], {
        labels: { 'com.docker.compose.service': 'web' },
        ports: [
          { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' },
          { containerPort: 80, protocol: 'tcp', hostPort: '39401-39405' },
        ],
        argv: ['sh', '-c', 'mkdir -p /www && echo published > /www/index.html && exec httpd -f -p 80 -h /www'],
      }),
    )
    const ports = (await engine.inspectContainer(web))!.ports
    assert.equal(ports.length, 2)
    const random = ports[0]
    assert.equal(random.hostIp, '127.0.0.1')
    assert.ok(Number(random.hostPort) > 0)
    assert.equal(await httpGet(`http://127.0.0.1:${random.hostPort}/`), 'published\n')
    assert.ok(Number(ports[1].hostPort) >= 39401 && Number(ports[1].hostPort) <= 39405)
    assert.equal(await httpGet(`http://127.0.0.1:${ports[1].hostPort}/`), 'published\n')

    // busybox has no UDP server: the host's node, bind-mounted with its libraries, echoes datagrams.
    const host = (path: string) => ({ type: 'bind' as const, source: path, target: path, readOnly: true, createHostPath: false })
    const echo = await run(
      engine,
      specFor(`${project}-echo-1`, [process.execPath, '-e', "const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(m, r.port, r.address)); s.bind(5353)"], {
        networkMode: 'bridge',
        networks: [on(net.name, ['echo'])],
        mounts: [host(process.execPath), host('/lib'), host('/lib64'), host('/usr/lib')],
        ports: [{ containerPort: 5353, protocol: 'udp', hostIp: '127.0.0.1' }],
      }),
    )
    const udp = (await engine.inspectContainer(echo))!.ports[0]
    assert.equal(udp.protocol, 'udp')
    assert.equal(await udpEcho(Number(udp.hostPort), 'udp-hello'), 'udp-hello')

    // The fixed port is now taken: a second container publishing it cannot start.
    const second = await engine.createContainer(serve(`${project}-web-2`, [on(net.name, ['web'])], { labels: { 'com.docker.compose.service': 'web' }, ports: [{ containerPort: 80, protocol: 'tcp', hostPort: ports[1].hostPort }] }))
    await assert.rejects(engine.start(second.id), new RegExp(`cannot start container ${project}-web-2 \\(service web\\): host port 0\\.0\\.0\\.0:${ports[1].hostPort}/tcp is already in use`))
    assert.equal((await engine.inspectContainer(second.id))!.state, 'exited')

    // Stopping closes the ports.
    await engine.stop(web, { timeoutMs: 2000 })
    await assert.rejects(httpGet(`http://127.0.0.1:${random.hostPort}/`))
  })

  it('shares a namespace with network_mode container:NAME', async () => {
    const net = await engine.createNetwork({ name: `${project}_default`, internal: false, enableIpv6: false, labels: {} })
    const web = await run(engine, serve(`${project}-web-1`, [on(net.name, ['web'])]))
    await run(engine, specFor(`${project}-side-1`, ['sleep', '600'], { networkMode: `container:${web}` }))
    assert.equal((await sh(engine, `${project}-side-1`, 'timeout 5 wget -q -O- http://127.0.0.1/')).stdout, `hello from ${project}-web-1\n`)
  })

  it('refuses what it cannot do, clearly, and makes nothing', async () => {
    const before = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' })
    await assert.rejects(engine.createNetwork({ name: `${project}_v6`, internal: false, enableIpv6: true, labels: {} }), /enable_ipv6 is not supported/)
    await assert.rejects(engine.createNetwork({ name: `${project}_ov`, driver: 'overlay', internal: false, enableIpv6: false, labels: {} }), /driver "overlay" is not supported/)
    await assert.rejects(engine.createNetwork({ name: `${project}_opt`, driverOpts: { 'com.example.x': '1' }, internal: false, enableIpv6: false, labels: {} }), /driver_opts "com.example.x" is not supported/)
    await assert.rejects(engine.createNetwork({ name: `${project}_gw`, internal: false, enableIpv6: false, labels: {}, ipam: [{ subnet: '10.252.0.0/24', gateway: '10.253.0.1' }] }), /gateway "10.253.0.1" must be an address inside the subnet/)
    const c = await engine.createContainer(idle(`${project}-lost-1`, [on(`${project}_nope`)]))
    await assert.rejects(engine.start(c.id), /network nt\d+_nope not found/)
    assert.deepEqual(await engine.listNetworks({}), [])
    assert.equal(execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' }), before)
    const net = await engine.createNetwork({ name: `${project}_default`, internal: false, enableIpv6: false, labels: {} })
    await assert.rejects(engine.createNetwork({ name: `${project}_default`, internal: false, enableIpv6: false, labels: {} }), /already exists/)
    await run(engine, idle(`${project}-user-1`, [on(net.name)]))
    await assert.rejects(engine.removeNetwork(net.name), /has active endpoints/)
  })
})

function httpGet(url: string): Promise<string> {
  return fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.text())
}

async function udpEcho(port: number, text: string): Promise<string> {
  const { createSocket } = await import('node:dgram')
  const socket = createSocket('udp4')
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no udp reply')), 5000)
      socket.on('message', (m) => {
        clearTimeout(timer)
        resolve(m.toString())
      })
      // The container's nc may not listen yet: send until it answers.
      const send = () => socket.send(text, port, '127.0.0.1')
      send()
      const again = setInterval(send, 200)
      timer.unref()
      socket.once('message', () => clearInterval(again))
    })
  } finally {
    socket.close()
  }
}

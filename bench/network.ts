/**
 * What networking adds to a container's start on the embedded engine: the
 * time of `start` for a container with network_mode none (its own empty
 * namespace) against one on a bridge network (namespace, veth pair,
 * address, /etc/hosts of every container on the network rewritten), alone
 * and with 20 other containers already on the network. Medians of several
 * runs; create, stop and remove are outside the timings. Then how long after
 * `start` returns the network's DNS server (in the monitor, network/dns.ts)
 * answers on the gateway, for the first container of a new network: a query
 * from the host, which holds no lease, gets SERVFAIL, which is an answer.
 * Usage: node dist/bench/network.js [runs]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { EmbeddedEngine } from '../src/engine/embedded/engine.js'
import type { ContainerSpec } from '../src/engine/engine.js'
import { specFor } from '../test/support/containers.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median } from './common.js'
import { createSocket } from 'node:dgram'
import { encodeQuery } from '../src/network/dns-packet.js'

const runs = Number(process.argv[2] ?? 9)

async function timedStart(engine: EmbeddedEngine, spec: ContainerSpec): Promise<number> {
  const c = await engine.createContainer(spec)
  const start = performance.now()
  await engine.start(c.id)
  const took = performance.now() - start
  await engine.remove(c.id, { force: true })
  return took
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pier-bench-network-'))
  const engine = new EmbeddedEngine({ root })
  try {
    await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage()])))
    await engine.createNetwork({ name: 'bench_default', internal: false, enableIpv6: false, labels: {} })
    const none = (i: number) => specFor(`none-${i}`, ['sleep', '600'], { networkMode: 'none' })
    const bridge = (i: number) => specFor(`bridge-${i}`, ['sleep', '600'], { networkMode: 'bridge', networks: [{ network: 'bench_default', aliases: ['svc'] }] })
    await timedStart(engine, none(-1))
    await timedStart(engine, bridge(-1))
    const a: number[] = []
    const b: number[] = []
    for (let i = 0; i < runs; i++) {
      a.push(await timedStart(engine, none(i)))
      b.push(await timedStart(engine, bridge(i)))
    }
    const peers = []
    for (let i = 0; i < 20; i++) {
      const c = await engine.createContainer(specFor(`peer-${i}`, ['sleep', '600'], { networkMode: 'bridge', networks: [{ network: 'bench_default', aliases: ['peer'] }] }))
      await engine.start(c.id)
      peers.push(c.id)
    }
    const c: number[] = []
    for (let i = 0; i < runs; i++) c.push(await timedStart(engine, bridge(100 + i)))
    const d: number[] = []
    for (let i = 0; i < runs; i++) {
      const network = await engine.createNetwork({ name: `bench_dns${i}`, internal: false, enableIpv6: false, labels: {} })
      const c = await engine.createContainer(specFor(`dns-${i}`, ['sleep', '600'], { networkMode: 'bridge', networks: [{ network: network.name, aliases: [] }] }))
      await engine.start(c.id)
      d.push(await firstAnswer(network.subnets[0].gateway!))
      await engine.remove(c.id, { force: true })
      await engine.removeNetwork(network.name)
    }
    const fmt = (t: number[]) => `median ${median(t).toFixed(1)} ms (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)})`
    console.log(`start of a busybox container, ${runs} runs each`)
    console.log(`  network_mode none:                  ${fmt(a)}`)
    console.log(`  on a bridge network:                ${fmt(b)}`)
    console.log(`  on a bridge with 20 running peers:  ${fmt(c)}`)
    console.log(`  DNS answers on the gateway after:   ${fmt(d)} (first container of a network)`)
    console.log(`  networking adds (medians):          ${(median(b) - median(a)).toFixed(1)} ms alone, ${(median(c) - median(a)).toFixed(1)} ms with 20 peers`)
  } finally {
    for (const c of await engine.listContainers({}, { all: true })) await engine.remove(c.id, { force: true })
    for (const n of await engine.listNetworks({})) await engine.removeNetwork(n.name)
    rmSync(root, { recursive: true, force: true })
  }
}

/** Milliseconds until a query to gateway:53 gets any reply, asking at once and then every 2 ms. */
function firstAnswer(gateway: string): Promise<number> {
  const start = performance.now()
  const socket = createSocket('udp4')
  return new Promise((resolve) => {
    const ask = () => socket.send(encodeQuery(1, 'bench'), 53, gateway)
    const timer = setInterval(ask, 2)
    ask()
    socket.on('message', () => {
      clearInterval(timer)
      socket.close()
      resolve(performance.now() - start)
    })
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

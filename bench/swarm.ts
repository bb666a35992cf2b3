/**
 * pier --engine swarm on a real three-node swarm (test/support/swarm.ts:
 * three dockerd in network namespaces on a test bridge, a registry on it):
 * the time to deploy (`up -d` returning) and to converge (every task
 * running, and healthy where a healthcheck is set) a 10-service project of
 * 2 replicas each, a no-op `up -d`, `down`; then a rolling update of a
 * 2-replica service (start-first, healthchecks) under requests sent in turn
 * to the nodes running its tasks: how many requests, how many failed.
 * Usage: node dist/bench/swarm.js [runs]   (default 3)
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SwarmClient } from '../src/swarm/api.js'
import { converged } from '../src/swarm/wait.js'
import { IMAGE, sleep, TestSwarm } from '../test/support/swarm.js'
import { median, pierBin, timed } from './common.js'

const runs = Number(process.argv[2] ?? 3)
const work = mkdtempSync(join(tmpdir(), 'pier-bench-swarm-'))
const STOP = `trap 'exit 0' TERM; while :; do sleep 1; done`
const HEALTH = `healthcheck: {test: ["CMD", "true"], interval: 1s, retries: 3}`

function tenServices(): string {
  const services = Array.from({ length: 10 }, (_, i) => `  s${i}:\n    image: ${IMAGE}\n    command: ["sh", "-c", "${STOP}"]\n    ${HEALTH}\n    deploy: {replicas: 2, endpoint_mode: dnsrr}\n${i > 0 && i % 3 === 0 ? `    depends_on: {s${i - 1}: {condition: service_healthy}}\n` : ''}`)
  return `name: benchswarm\nservices:\n${services.join('')}`
}

function api(version: string): string {
  const serve = `mkdir -p /w && echo api-${version} > /w/index.html && httpd -f -p 80 -h /w & trap 'sleep 2; exit 0' TERM; wait`
  return `name: benchroll
services:
  api:
    image: ${IMAGE}
    command: ["sh", "-c", "${serve}"]
    ports: [{target: 80, published: 8081, mode: host}]
    stop_grace_period: 5s
    healthcheck: {test: ["CMD-SHELL", "timeout 2 wget -qO- http://127.0.0.1/ >/dev/null"], interval: 1s, timeout: 2s, retries: 3}
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      placement: {max_replicas_per_node: 1}
      update_config: {parallelism: 1, order: start-first, delay: 1s, monitor: 2s}
`
}

async function main(): Promise<void> {
  const swarm = await TestSwarm.start()
  const client = await SwarmClient.connect(swarm.manager.host)
  try {
    const env = { ...process.env, DOCKER_HOST: swarm.manager.host, PIER_ENGINE: 'swarm' }
    const file = join(work, 'ten.yaml')
    writeFileSync(file, tenServices())
    const pier = (f: string, args: string[]) => timed(process.execPath, [pierBin, '-f', f, '--progress', 'quiet', ...args], env)
    const rows: Record<string, number[]> = { 'up -d (deployed: every service created)': [], 'converged (every task running and healthy)': [], 'no-op up -d': [], down: [] }
    for (let r = 0; r < runs; r++) {
      const start = performance.now()
      rows['up -d (deployed: every service created)'].push(pier(file, ['up', '-d']))
      for (;;) {
        const services = await client.services({ 'com.docker.compose.project': 'benchswarm' })
        const states = await Promise.all(services.map(async (s) => converged(s, await client.tasks({ service: [s.ID] }))))
        if (services.length === 10 && states.every((s) => s === true)) break
        await sleep(100)
      }
      rows['converged (every task running and healthy)'].push(performance.now() - start)
      rows['no-op up -d'].push(pier(file, ['up', '-d']))
      rows.down.push(pier(file, ['down']))
    }
    console.log(`10 services × 2 replicas on 3 nodes, ${runs} runs (median, min – max):`)
    for (const [what, values] of Object.entries(rows)) console.log(`  ${what}: ${Math.round(median(values))} ms (${Math.round(Math.min(...values))} – ${Math.round(Math.max(...values))})`)

    const roll = join(work, 'roll.yaml')
    writeFileSync(roll, api('1'))
    pier(roll, ['up', '--wait'])
    writeFileSync(roll, api('2'))
    const nodes = new Map((await client.nodes()).map((n) => [n.ID, swarm.nodes.find((x) => x.name === n.Description.Hostname)!.addr]))
    let ok = 0
    let failed = 0
    let running = true
    const load = (async () => {
      let targets: string[] = []
      let refreshed = 0
      for (let i = 0; running; i++) {
        if (Date.now() - refreshed > 200) {
          const [svc] = await client.services({ 'com.docker.compose.project': 'benchroll' })
          const listed = (await client.tasks({ service: [svc.ID], 'desired-state': ['running'] })).filter((t) => t.Status.State === 'running').map((t) => nodes.get(t.NodeID!)!)
          if (listed.length) targets = listed
          refreshed = Date.now()
        }
        try {
          const res = await fetch(`http://${targets[i % targets.length]}:8081/`, { signal: AbortSignal.timeout(5000) })
          if (!res.ok) throw new Error(String(res.status))
          await res.text()
          ok++
        } catch {
          failed++
        }
        await sleep(20)
      }
    })()
    // The update runs in a child process while this one sends the requests.
    const t0 = performance.now()
    await promisify(execFile)(process.execPath, [pierBin, '-f', roll, '--progress', 'quiet', 'up', '--wait'], { env })
    const took = performance.now() - t0
    running = false
    await load
    console.log(`rolling update of 2 replicas (start-first, 1 s health interval): ${Math.round(took)} ms, ${ok + failed} requests, ${failed} failed`)
    pier(roll, ['down'])
  } finally {
    client.close()
    await swarm.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})

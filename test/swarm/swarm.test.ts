import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile, spawnSync } from 'node:child_process'
import { pier, pierBin, type RunResult } from '../support/helpers.js'
import { IMAGE, sleep, TestSwarm } from '../support/swarm.js'

/**
 * `--engine swarm` on a real swarm of three nodes (test/support/swarm.ts).
 * The kernel here has no IPVS, so the project uses what works without it:
 * endpoint_mode dnsrr and host-mode ports; overlay networks (VXLAN) work.
 */

const PROJECT = 'pierswarmtest'

// web answers on every node (global, host port 8080) and asks api by name over the overlay network (a CGI script);
// api has two replicas on host port 8081 and a healthcheck; a SIGTERM lets it finish what it serves for 2 s.
// The CGI script is a Swarm config (configs.cgi), mounted executable.
const serve = (body: string) => `echo ${body} > /w/index.html && httpd -f -p 80 -h /w & trap 'sleep 2; exit 0' TERM; wait`

function compose(apiVersion: string, options: { extraService?: boolean } = {}): string {
  return `name: ${PROJECT}
services:
  web:
    image: ${IMAGE}
    command: ["sh", "-c", "${serve('web-$$(hostname)')}"]
    depends_on:
      api: {condition: service_healthy}
    ports: [{target: 80, published: 8080, mode: host}]
    networks: [backend]
    configs: [{source: cgi, target: /w/cgi-bin/api, mode: "0555"}]
    stop_grace_period: 5s
    deploy:
      mode: global
      endpoint_mode: dnsrr
  api:
    image: ${IMAGE}
    command: ["sh", "-c", "mkdir -p /w && ${serve(`api-${apiVersion}-$$(hostname)`)}"]
    environment: {VERSION: "${apiVersion}"}
    ports: [{target: 80, published: 8081, mode: host}]
    networks: [backend]
    stop_grace_period: 5s
    healthcheck:
      test: ["CMD-SHELL", "timeout 2 wget -qO- http://127.0.0.1/ >/dev/null"]
      interval: 1s
      timeout: 2s
      retries: 3
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      placement: {max_replicas_per_node: 1}
      update_config: {parallelism: 1, order: start-first, delay: 1s, monitor: 2s, failure_action: rollback}
  worker:
    image: ${IMAGE}
    command: ["sh", "-c", "echo worker up on $$(hostname); trap 'exit 0' TERM; while :; do sleep 1; done"]
    networks: [backend]
    secrets: [token]
    configs: [settings]
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
${options.extraService ? `  extra:\n    image: ${IMAGE}\n    command: ["sleep", "600"]\n    deploy: {endpoint_mode: dnsrr}\n` : ''}networks:
  backend:
    driver: overlay
    attachable: true
secrets:
  token:
    file: ./token.txt
configs:
  cgi:
    content: |
      #!/bin/sh
      printf 'Content-Type: text/plain\\r\\n\\r\\n'
      timeout 5 wget -qO- http://api/
  settings:
    content: "level: 1"
`
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
  return (await res.text()).trim()
}

describe('pier --engine swarm on a three-node swarm', function () {
  this.timeout(180_000)
  let swarm: TestSwarm
  let dir: string
  const run = (args: string[], file = 'compose.yaml') => pier(['-f', join(dir, file), '--engine', 'swarm', ...args], { env: { DOCKER_HOST: swarm.manager.host } })
  // The CLI while the test goes on (the rolling update's requests run meanwhile in this process).
  const runAsync = (args: string[]) =>
    new Promise<RunResult>((resolve) => {
      const child = execFile(process.execPath, [pierBin, '-f', join(dir, 'compose.yaml'), '--engine', 'swarm', ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', DOCKER_HOST: swarm.manager.host } }, (err, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }))
    })
  // Where api's tasks run, from the manager's API (what a load balancer in front would be told).
  const apiNodes = async () => {
    const services = await swarm.manager.api<{ ID: string; Spec: { Name: string } }[]>('GET', '/services')
    const api = services.find((s) => s.Spec.Name === `${PROJECT}_api`)!
    const list = await swarm.manager.api<{ NodeID: string; DesiredState: string; Status: { State: string } }[]>('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [api.ID], 'desired-state': ['running'] }))}`)
    const ids = await swarm.readyNodes(3)
    const byId = new Map([...ids].map(([name, id]) => [id, name]))
    return list.filter((t) => t.Status.State === 'running').map((t) => swarm.nodes.find((n) => n.name === byId.get(t.NodeID))!.addr)
  }
  const tasks = async (service: string) => {
    const out = run(['ps', '--format', 'json', service])
    assert.equal(out.status, 0, out.stderr)
    return out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Name: string; Node: string; CurrentState: string; DesiredState: string })
  }

  before(async function () {
    swarm = await TestSwarm.start()
    dir = mkdtempSync(join(tmpdir(), 'pier-swarm-'))
    writeFileSync(join(dir, 'compose.yaml'), compose('1'))
    writeFileSync(join(dir, 'token.txt'), 's3cret')
  })

  after(async function () {
    if (dir) {
      if (swarm) run(['down'])
      rmSync(dir, { recursive: true, force: true })
    }
    await swarm?.stop()
  })

  it('refuses, one line each and before anything is made, what Swarm cannot honour and an image no registry has', async () => {
    writeFileSync(join(dir, 'bad.yaml'), `name: ${PROJECT}
services:
  builder:
    image: ${IMAGE}
    build: .
    privileged: true
    container_name: fixed
    deploy: {endpoint_mode: dnsrr}
  local:
    image: ${IMAGE.replace('busybox:1', 'only-local:1')}
    deploy: {endpoint_mode: dnsrr}
networks:
  default:
    attachable: true
`)
    const r = run(['up', '-d'], 'bad.yaml')
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /service builder: build is not supported by Swarm/)
    assert.match(r.stderr, /service builder: privileged is not supported by Swarm/)
    assert.match(r.stderr, /service builder: container_name is not supported by Swarm/)
    // The fields first; then the image, asked of the registry: this one exists on the manager only (tagged, never pushed).
    const local = IMAGE.replace('busybox:1', 'only-local')
    await swarm.manager.api('POST', `/images/${IMAGE}/tag?repo=${encodeURIComponent(local)}&tag=1`)
    writeFileSync(join(dir, 'bad.yaml'), `name: ${PROJECT}\nservices:\n  local:\n    image: ${IMAGE.replace('busybox:1', 'only-local:1')}\n    deploy: {endpoint_mode: dnsrr}\n`)
    const image = run(['up', '-d'], 'bad.yaml')
    assert.equal(image.status, 1, image.stderr)
    assert.match(image.stderr, /service local: image .*only-local:1 is not in a registry the swarm can reach .*push it to a registry every node can reach \(`pier push`\)/)
    for (const kind of ['services', 'secrets', 'configs']) assert.deepEqual(await swarm.manager.api('GET', `/${kind}`), [], `${kind} made`)
    assert.deepEqual((await swarm.manager.api<{ Name: string }[]>('GET', '/networks')).filter((n) => n.Name.startsWith(PROJECT)), [])
  })

  it('refuses a project that needs the routing mesh on a node without IPVS, saying what works instead', function () {
    // Only where this machine has no IPVS (this one's kernel has no CONFIG_IP_VS).
    if (existsSync('/proc/net/ip_vs') || spawnSync('modprobe', ['-n', 'ip_vs']).status === 0) this.skip()
    writeFileSync(join(dir, 'mesh.yaml'), `name: ${PROJECT}\nservices:\n  web:\n    image: ${IMAGE}\n    ports: ["8090:80"]\n`)
    const r = run(['up', '-d'], 'mesh.yaml')
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /services web need Swarm's routing mesh, and this node's kernel has no IPVS \(CONFIG_IP_VS\): set deploy.endpoint_mode: dnsrr and publish ports with mode: host/)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })

  it('up --wait deploys every service across the nodes; web answers on every node and reaches api by name over the overlay network', async () => {
    const up = run(['up', '--wait'])
    assert.equal(up.status, 0, up.stderr)
    // depends_on: api was created (and healthy) before web.
    assert.ok(up.stderr.indexOf('service api: created') < up.stderr.indexOf('service web: created'), up.stderr)
    const nodes = new Set((await tasks('worker')).map((t) => t.Node))
    assert.ok(nodes.size >= 2, `worker replicas spread over ${[...nodes].join(', ')}`)
    for (const n of swarm.nodes) {
      assert.match(await get(`http://${n.addr}:8080/`), /^web-/)
      assert.match(await get(`http://${n.addr}:8080/cgi-bin/api`), /^api-1-/)
    }
    const ps = run(['ps'])
    assert.match(ps.stdout, /NODE/)
    assert.match(ps.stdout, /pier-sw-/)
  })

  it('up again leaves unchanged services alone', () => {
    const again = run(['up', '-d'])
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stderr, /is up to date/)
  })

  it('a rolling update of api (start-first, healthchecks) completes with no failed request', async () => {
    writeFileSync(join(dir, 'compose.yaml'), compose('2'))
    let ok = 0
    const failures: string[] = []
    let running = true
    // Requests go, in turn, to the nodes where a task of api is meant to run, as a load balancer in front would.
    const client = (async () => {
      let targets: string[] = []
      let refreshed = 0
      for (let i = 0; running; i++) {
        if (Date.now() - refreshed > 200) {
          const listed = await apiNodes()
          if (listed.length) targets = listed
          refreshed = Date.now()
        }
        const addr = targets[i % targets.length]
        try {
          assert.match(await get(`http://${addr}:8081/`), /^api-[12]-/)
          ok++
        } catch (e) {
          failures.push(`${addr}: ${(e as Error).message}`)
        }
        await sleep(20)
      }
    })()
    const up = await runAsync(['up', '--wait'])
    running = false
    await client
    assert.equal(up.status, 0, up.stderr)
    assert.match(up.stderr, /service api: updated/)
    assert.doesNotMatch(up.stderr, /service (web|worker): updated/)
    for (const n of (await tasks('api')).map((t) => swarm.nodes.find((x) => x.name === t.Node)!)) assert.match(await get(`http://${n.addr}:8081/`), /^api-2-/)
    console.log(`      rolling update: ${ok} requests, ${failures.length} failed`)
    assert.deepEqual(failures, [])
    assert.ok(ok > 20, `${ok} requests`)
  })

  it('a node whose dockerd stops has its tasks rescheduled on the others', async () => {
    const node = swarm.nodes[2]
    const before = (await tasks('worker')).filter((t) => t.Node === node.name)
    assert.ok(before.length > 0, 'a worker task runs on the node stopped')
    await node.stop()
    try {
      const deadline = Date.now() + 60_000
      for (;;) {
        const now = await tasks('worker')
        const running = now.filter((t) => t.CurrentState === 'running' && t.Node !== node.name)
        if (running.length === 3) break
        if (Date.now() > deadline) assert.fail(`worker not rescheduled: ${JSON.stringify(now)}`)
        await sleep(500)
      }
    } finally {
      await node.start()
      await swarm.readyNodes(3)
    }
  })

  it('up removes a service the project no longer has', () => {
    writeFileSync(join(dir, 'extra.yaml'), compose('2', { extraService: true }))
    let r = run(['up', '-d'], 'extra.yaml')
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /service extra: created/)
    r = run(['up', '-d'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /service extra: removed/)
  })

  it('a changed secret is a new Swarm secret: its services are updated and the old secret removed', async () => {
    const secrets = async () => (await swarm.manager.api<{ Spec: { Name: string } }[]>('GET', '/secrets')).map((x) => x.Spec.Name)
    const before = await secrets()
    writeFileSync(join(dir, 'token.txt'), 'rotated')
    const r = run(['up', '--wait'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /service worker: updated/)
    assert.doesNotMatch(r.stderr, /service (api|web): updated/)
    const after = await secrets()
    assert.equal(after.length, 1, after.join(', '))
    assert.notDeepEqual(after, before)
    assert.match(after[0], /^pierswarmtest_token-[0-9a-f]{12}$/)
  })

  it('logs merges the services\' logs from every node; ps shows tasks with their node', () => {
    const r = run(['logs', '--no-color', 'worker'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^worker +\| worker up on /m)
    const hosts = new Set([...r.stdout.matchAll(/worker up on (\S+)/g)].map((m) => m[1]))
    assert.ok(hosts.size >= 2, `worker logs from ${[...hosts].join(', ')}`)
    const ps = run(['ps'])
    assert.equal(ps.status, 0, ps.stderr)
    assert.match(ps.stdout, /^NAME +IMAGE +NODE +DESIRED STATE +CURRENT STATE/)
    assert.match(ps.stdout, /^api\.1 .* pier-sw-\d +running +running/m)
  })

  it('other commands say what --engine swarm runs', () => {
    const r = run(['exec', 'api', 'true'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /with --engine swarm, pier runs up -d, up --wait, down, ps and logs/)
    const attached = run(['up'])
    assert.equal(attached.status, 1)
    assert.match(attached.stderr, /on Swarm, up runs detached: add -d/)
  })

  it('down leaves nothing of the project on any node', async () => {
    const r = run(['down'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /service api: removed/)
    // The manager has forgotten the tasks; each node removes their containers on its own, within moments.
    const deadline = Date.now() + 20_000
    for (const n of swarm.nodes) {
      for (;;) {
        const containers = await n.api<{ Names: string[] }[]>('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${PROJECT}`] }))}`)
        const networks = (await n.api<{ Name: string }[]>('GET', '/networks')).filter((x) => x.Name.startsWith(PROJECT))
        const left = [...containers.map((c) => c.Names[0]), ...networks.map((x) => x.Name)]
        if (left.length === 0) break
        if (Date.now() > deadline) assert.fail(`left on ${n.name}: ${left.join(', ')}`)
        await sleep(300)
      }
    }
    for (const kind of ['services', 'secrets', 'configs']) assert.deepEqual(await swarm.manager.api('GET', `/${kind}`), [], `${kind} left`)
  })
})

import assert from 'node:assert/strict'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { EngineProject } from '../support/engine-project.js'
import { pierBin, psJson, TempProject } from '../support/helpers.js'
import { assertNetworkGone, assertNothingLeft } from '../support/containers.js'

const execAsync = promisify(execFile)

/** The host's network objects that pier makes: interfaces, namespaces, nft tables. */
function hostNetworkState(): string[] {
  const links = readdirSync('/sys/class/net').filter((l) => l.startsWith('pier-') || l.startsWith('pv'))
  const netns = (() => {
    try {
      return readdirSync('/run/netns').filter((n) => n.startsWith('pier-'))
    } catch {
      return []
    }
  })()
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('pier_'))
  return [...links, ...netns, ...tables].sort()
}

describe('pier up on bridge networks', function () {
  this.timeout(90_000)
  let project: EngineProject
  let work: TempProject
  let root: string
  const name = `pier-net-${process.pid}`
  const run = (args: string[], input?: string) => project.run(args, input)

  beforeEach(async () => {
    project = await EngineProject.create({
      'compose.yaml': `name: ${name}
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo served-by-web > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1::80"]
    expose: ["8125"]
    healthcheck: {test: [CMD, wget, -q, -O, /dev/null, "http://127.0.0.1/"], interval: 200ms, start_interval: 100ms, start_period: 5s}
  api:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]
    scale: 3
    networks: [default, back]
  client:
    image: busybox
    command: ["sh", "-c", "wget -q -O- http://web/ && wget -q -O- http://front/ && exec sleep 600"]
    links: ["web:front"]
    depends_on:
      web: {condition: service_healthy}
  hidden:
    image: busybox
    command: ["sleep", "600"]
    networks: [back]
  sidecar:
    image: busybox
    command: ["sleep", "600"]
    network_mode: "service:web"
networks:
  back:
    internal: true
`,
    })
    ;({ work, root } = project)
  })
  afterEach(() => project.dispose(['down', '-v', '-t', '1']))

  it('creates the networks, connects services by name, publishes ports, and leaves the host as it found it', async () => {
    const before = hostNetworkState()
    const up = run(['up', '-d', '--wait'])
    assert.equal(up.status, 0, up.stderr)
    assert.match(up.stderr, new RegExp(`Network ${name}_default\\s+Created`))
    assert.match(up.stderr, new RegExp(`Network ${name}_back\\s+Created`))

    // The host reaches web through its published port, on 127.0.0.1 only.
    const port = run(['port', 'web', '80'])
    assert.equal(port.status, 0, port.stderr)
    assert.match(port.stdout, /^127\.0\.0\.1:\d+\n$/)
    const res = await fetch(`http://${port.stdout.trim()}/`, { signal: AbortSignal.timeout(5000) })
    assert.equal(await res.text(), 'served-by-web\n')
    const ps = psJson(run(['ps', '--format', 'json']).stdout)
    assert.match(ps.find((c) => c.Service === 'web')!.Ports, /^127\.0\.0\.1:\d+->80\/tcp, 8125\/tcp$/)

    // client fetched web by service name and by its link alias.
    // (pier exec comes with the full command set: runc's exec does here.)
    const idOf = (service: string) => run(['ps', '-q', service]).stdout.trim().split('\n')[0]
    const exec = (service: string, script: string) => execFileSync('runc', ['--root', join(root, 'runtime'), 'exec', idOf(service), 'sh', '-c', script], { encoding: 'utf8', stdio: 'pipe' })
    await waitFor(() => exec('client', 'cat /proc/1/cmdline').includes('sleep'))
    assert.match(run(['ps', 'client']).stdout, /\bUp (Less than a second|\d+ seconds?)\b/, 'the STATUS column in Compose\'s words')
    // api's three replicas are all listed under "api" for hidden, which shares only the internal network with them.
    assert.equal(exec('hidden', 'grep -c "[[:space:]]api\\( \\|$\\)" /etc/hosts').trim(), '3')
    assert.match(exec('hidden', 'wget -q -O- http://api/'), /^[0-9a-f]{12}\n$/)
    assert.throws(() => exec('hidden', 'wget -q -O- http://web/'), /bad address/)
    // sidecar lives in web's namespace: web's server is on its loopback.
    assert.equal(exec('sidecar', 'wget -q -O- http://127.0.0.1/'), 'served-by-web\n')

    // A host port already taken: the start fails naming it and the service; the others run on.
    const held = run(['port', 'web', '80']).stdout.trim().split(':')[1]
    work.write({ 'compose.override.yaml': `services:\n  web2:\n    image: busybox\n    command: ["sleep", "600"]\n    ports: ["127.0.0.1:${held}:80"]\n` })
    const clash = run(['up', '-d', 'web2'])
    assert.equal(clash.status, 1)
    assert.match(clash.stderr, new RegExp(`(service web2).*host port 127\\.0\\.0\\.1:${held}/tcp is already in use`))
    rmSync(work.path('compose.override.yaml'))

    const containerIds = run(['ps', '-a', '-q']).stdout.trim().split('\n')
    const bridges = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }) || '[]').map((l: { ifname: string }) => l.ifname).filter((n: string) => n.startsWith('pier-') && !before.includes(n))
    const down = run(['down', '--remove-orphans', '-t', '1'])
    assert.equal(down.status, 0, down.stderr)
    assert.match(down.stderr, new RegExp(`Network ${name}_default\\s+Removed`))
    for (const id of containerIds) assertNothingLeft(root, id)
    for (const b of bridges) assertNetworkGone(b)
    assert.deepEqual(hostNetworkState(), before)
  })

  it('cleans everything up with down after pier was killed in the middle of up', async () => {
    const before = hostNetworkState()
    for (const delay of [350, 550, 750]) {
      const child = spawn(process.execPath, [pierBin, 'up', '-d'], { cwd: work.dir, env: project.env(), stdio: 'ignore' })
      const exited = new Promise((r) => child.once('exit', r))
      await new Promise((r) => setTimeout(r, delay))
      child.kill('SIGKILL')
      await exited
      const down = run(['down', '-t', '0'])
      assert.equal(down.status, 0, `after a kill at ${delay} ms: ${down.stderr}`)
      assert.equal(run(['ps', '-a', '-q']).stdout, '', `containers left after a kill at ${delay} ms`)
      assert.deepEqual(hostNetworkState(), before, `host state after a kill at ${delay} ms`)
      assert.deepEqual(existsSync(join(root, 'networks')) ? readdirSync(join(root, 'networks')) : [], [], 'no network records or address leases are left')
    }
  })

  it('gives 20 projects side by side distinct subnets, even when they are created at the same moment from separate roots', async () => {
    const before = hostNetworkState()
    const projects = Array.from({ length: 20 }, (_, i) => new TempProject({ 'compose.yaml': `name: ${name}-side-${i}\nservices:\n  a:\n    image: busybox\n    command: ["sleep", "5"]\n` }))
    const roots = projects.map(() => mkdtempSync(join(tmpdir(), 'pier-root-')))
    const env = (i: number) => ({ PATH: process.env.PATH ?? '', PIER_ROOT: roots[i], PIER_NO_CACHE: '1' })
    try {
      await Promise.all(projects.map((p, i) => execAsync(process.execPath, [pierBin, 'image', 'load', '-i', work.path('busybox.tar')], { env: env(i) })))
      // All at once: --no-start creates the networks (and the containers) without running anything.
      await Promise.all(projects.map((p, i) => execAsync(process.execPath, [pierBin, 'up', '-d', '--no-start'], { cwd: p.dir, env: env(i) })))
      const subnets = roots.map((r) => {
        const [id] = readdirSync(join(r, 'networks'))
        return (JSON.parse(readFileSync(join(r, 'networks', id, 'network.json'), 'utf8')) as { subnet: string }).subnet
      })
      assert.equal(new Set(subnets).size, 20, `subnets: ${subnets.join(' ')}`)
    } finally {
      await Promise.all(projects.map((p, i) => execAsync(process.execPath, [pierBin, 'down'], { cwd: p.dir, env: env(i) }).catch(() => undefined)))
      projects.forEach((p) => p.cleanup())
      roots.forEach((r) => rmSync(r, { recursive: true, force: true }))
    }
    assert.deepEqual(hostNetworkState(), before)
  })

  it('refuses an external network that does not exist, and makes nothing', () => {
    work.write({ 'compose.yaml': `name: ${name}\nservices:\n  a:\n    image: busybox\n    command: ["sleep", "5"]\n    networks: [outside]\nnetworks:\n  outside:\n    external: true\n    name: nowhere-${process.pid}\n` })
    const up = run(['up', '-d'])
    assert.equal(up.status, 1)
    assert.match(up.stderr, new RegExp(`^error: network nowhere-${process.pid} declared as external, but could not be found`))
    assert.equal(run(['ps', '-a', '-q']).stdout, '')
  })
})

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (check()) return
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 100))
  }
}

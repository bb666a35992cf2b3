import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import type { DockerEngine } from '../../src/engine/docker/engine.js'
import { type DaemonKind, dockerWithBusybox, hasPodman } from '../support/dockerd.js'
import { pierBin, psJson, shortStatus, TempProject } from '../support/helpers.js'

/**
 * pier's CLI on dockerd (--engine docker): a web server and a client that
 * reaches it by service name over the project network, from up --wait to
 * down -v, leaving nothing on the daemon. On dockerd, and on Podman's
 * compatible service when podman is installed.
 */
for (const kind of ['docker', ...(hasPodman() ? ['podman'] : [])] as DaemonKind[])
describe(`pier --engine docker on ${kind}`, function () {
  this.timeout(120_000)
  const name = `pier-${kind}-${process.pid}`
  const labels = { 'com.docker.compose.project': name }
  let engine: DockerEngine
  let host: string
  let cleanup: () => Promise<void>
  let work: TempProject
  const run = (args: string[]) => spawnSync(process.execPath, [pierBin, '--engine', 'docker', ...args], { cwd: work.dir, encoding: 'utf8', env: { ...process.env, DOCKER_HOST: host }, timeout: 90_000 })

  // Podman runs healthchecks from systemd timers: with no systemd (as here) a container stays "starting" for ever.
  const healthcheck = kind === 'docker' ? '    healthcheck: {test: [CMD, wget, -q, -O, /dev/null, "http://127.0.0.1:8080/"], interval: 1s, start_period: 5s, start_interval: 200ms}' : ''

  before(async function () {
    this.timeout(300_000)
    ;({ engine, host, cleanup } = await dockerWithBusybox(labels, kind))
    work = new TempProject({
      'compose.yaml': `name: ${name}
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 8080 -h /www"]
${healthcheck}
  client:
    image: busybox
    command: ["sh", "-c", "while true; do wget -q -O - http://web:8080/ && sleep 1 || sleep 0.2; done"]
    depends_on:
      web: {condition: ${kind === 'docker' ? 'service_healthy' : 'service_started'}}
    volumes: [data:/data]
volumes:
  data: {}
`,
    })
  })
  after(async () => {
    try {
      run(['down', '-v', '--timeout', '1'])
    } finally {
      work?.cleanup()
      await cleanup?.()
    }
  })

  it('brings up two services that reach each other by name, lists, logs, execs, and takes everything down', async () => {
    const up = run(['up', '-d', '--wait'])
    assert.equal(up.status, 0, up.stderr)

    const ps = psJson(run(['ps', '--format', 'json']).stdout)
    assert.deepEqual(ps.map((c) => [c.Service, shortStatus(c)]).sort(), [['client', 'Running'], ['web', kind === 'docker' ? 'Running (healthy)' : 'Running']])

    // The client fetched the page over the project network, by the service's name.
    let logs = ''
    for (let i = 0; i < 50 && !logs.includes('hello from web'); i++) {
      logs = run(['logs', 'client']).stdout
      if (!logs.includes('hello from web')) await new Promise((r) => setTimeout(r, 200))
    }
    assert.match(logs, /client-1\s+\| hello from web/)

    const exec = run(['exec', '-T', 'client', 'sh', '-c', 'wget -q -O - http://web:8080/ && echo $HOSTNAME && exit 3'])
    assert.equal(exec.status, 3, exec.stderr)
    assert.match(exec.stdout, /^hello from web\n[0-9a-f]{12}\n$/)

    const oneoff = spawnSync(process.execPath, [pierBin, '--engine', 'docker', 'run', '--rm', '-T', 'client', 'sh', '-c', 'read x; echo "got $x"; exit 4'], { cwd: work.dir, encoding: 'utf8', env: { ...process.env, DOCKER_HOST: host }, input: 'in\n', timeout: 60_000 })
    assert.equal(oneoff.status, 4, oneoff.stderr)
    assert.equal(oneoff.stdout, 'got in\n')

    work.write({ 'note.txt': 'copied\n' })
    assert.equal(run(['cp', 'note.txt', 'client:/tmp/note.txt']).status, 0)
    assert.equal(run(['exec', '-T', 'client', 'cat', '/tmp/note.txt']).stdout, 'copied\n')
    assert.match(run(['top', 'client']).stdout, /sleep|wget/)

    const again = run(['up', '-d'])
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stderr, /is up to date\n$/)

    const down = run(['down', '-v', '--timeout', '1'])
    assert.equal(down.status, 0, down.stderr)
    assert.deepEqual(await engine.listContainers(labels, { all: true }), [], 'no container left')
    assert.deepEqual(await engine.listNetworks(labels), [], 'no network left')
    assert.deepEqual(await engine.listVolumes(labels), [], 'no volume left')
  })
})

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DockerEngine } from '../../src/engine/docker/engine.js'
import { EngineError } from '../../src/engine/errors.js'
import { dockerWithBusybox } from '../support/dockerd.js'
import { pier } from '../support/helpers.js'
import { tarOf } from '../support/images.js'
import { TestRegistry } from '../support/registry.js'

/**
 * The registry side of the image commands through the docker driver: the
 * daemon checks a login (POST /auth) against a docker-registry with basic
 * auth; pier saves it, and the daemon pushes with it; search reads the
 * catalog; the CLI's commands run on the docker engine.
 */
describe('docker driver: login, search, builder prune, and the image commands from the CLI', function () {
  this.timeout(120_000)
  const registry = new TestRegistry({ bob: 'pa55' })
  let d: { engine: DockerEngine; host: string; cleanup: () => Promise<void> }
  let dockerConfig: string
  const project = `pier-imgdocker-${process.pid}`

  before(async () => {
    await registry.start()
    d = await dockerWithBusybox({ 'com.docker.compose.project': project })
    dockerConfig = mkdtempSync(join(tmpdir(), 'pier-docker-config-'))
  })
  after(async () => {
    rmSync(dockerConfig, { recursive: true, force: true })
    await d?.cleanup()
    await registry.stop()
  })

  it('the daemon checks the login with the registry; refused credentials are one line', async () => {
    await d.engine.checkLogin(registry.host, { username: 'bob', password: 'pa55' })
    await assert.rejects(d.engine.checkLogin(registry.host, { username: 'bob', password: 'nope' }), (e: unknown) => e instanceof EngineError && e.code === 'registry' && !e.message.includes('\n'))
  })

  it('pier login on the docker engine saves what the daemon accepted; pushes use it; search lists the catalog', async () => {
    const env = { DOCKER_HOST: d.host, PIER_ENGINE: 'docker', DOCKER_CONFIG: dockerConfig }
    const run = (args: string[], input?: string) => pier(args, { env, ...(input !== undefined ? { input } : {}) })
    const login = run(['login', registry.host, '-u', 'bob', '--password-stdin'], 'pa55\n')
    assert.equal(login.status, 0, login.stderr)
    assert.equal(JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')).auths[registry.host].auth, Buffer.from('bob:pa55').toString('base64'))
    const name = `${registry.host}/team/busybox:1`
    await d.engine.tagImage('busybox', name)
    try {
      const pushed = run(['push', name])
      assert.equal(pushed.status, 0, pushed.stderr)
      // In this process, the search reads the credentials the CLI saved.
      const saved = process.env.DOCKER_CONFIG
      process.env.DOCKER_CONFIG = dockerConfig
      try {
        assert.deepEqual(await d.engine.searchRegistry(registry.host, 'team'), ['team/busybox'])
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG
        else process.env.DOCKER_CONFIG = saved
      }
      assert.equal(run(['search', `${registry.host}/busy`]).stdout, `NAME\n${registry.host}/team/busybox\n`)
    } finally {
      await d.engine.removeImage(name)
    }
  })

  it("pier commit and pier export of a service's container on the docker engine", () => {
    const work = mkdtempSync(join(tmpdir(), 'pier-imgdocker-'))
    writeFileSync(join(work, 'compose.yaml'), `name: ${project}\nservices:\n  app:\n    image: busybox\n    command: ["sh", "-c", "echo made > /made && exec sleep 600"]\n    stop_grace_period: 1s\n`)
    const run = (args: string[]) => pier(args, { env: { DOCKER_HOST: d.host, PIER_ENGINE: 'docker' }, cwd: work })
    try {
      assert.equal(run(['up', '-d', '--wait']).status, 0)
      const exec = run(['exec', '-T', 'app', 'sh', '-c', 'while [ ! -e /made ]; do sleep 0.05; done'])
      assert.equal(exec.status, 0, exec.stderr)
      const committed = run(['commit', '-m', 'from compose', 'app', `${project}-snap:1`])
      assert.equal(committed.status, 0, committed.stderr)
      assert.match(run(['image', 'history', '--format', 'json', `${project}-snap:1`]).stdout, /"Comment":"from compose"/)
      const exported = run(['export', 'app', '-o', 'fs.tar'])
      assert.equal(exported.status, 0, exported.stderr)
      assert.ok(execFileSync('tar', ['-tf', join(work, 'fs.tar')], { encoding: 'utf8' }).split('\n').includes('made'))
      assert.equal(run(['image', 'rm', `${project}-snap:1`]).status, 0)
    } finally {
      run(['down', '-t', '0'])
      rmSync(work, { recursive: true, force: true })
    }
  })

  it('image import, history and prune, and builder prune, from the CLI on the docker engine', async () => {
    const env = { DOCKER_HOST: d.host, PIER_ENGINE: 'docker' }
    const work = mkdtempSync(join(tmpdir(), 'pier-imgdocker-'))
    const run = (args: string[]) => pier(args, { env, cwd: work })
    try {
      writeFileSync(join(work, 'rootfs.tar'), await tarOf([{ name: 'hello', content: 'hello\n' }]))
      const imported = run(['image', 'import', '-m', 'one file', '-c', 'CMD ["/hello"]', 'rootfs.tar', `${project}-imported:1`])
      assert.equal(imported.status, 0, imported.stderr)
      assert.match(imported.stdout, /^sha256:[a-f0-9]{64}\n$/)
      const history = run(['image', 'history', `${project}-imported:1`])
      assert.equal(history.status, 0, history.stderr)
      assert.match(history.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[a-f0-9]{12}\s+(Less than a second|\d+ seconds?) ago\s+\d+B\s+one file\n$/)
      assert.equal(run(['image', 'rm', `${project}-imported:1`]).status, 0)
      writeFileSync(join(work, 'not.tar'), 'just text, not a tar archive at all\n'.repeat(20))
      const bad = run(['image', 'import', 'not.tar', `${project}-bad:1`])
      assert.equal(bad.status, 1, bad.stdout)
      assert.equal(bad.stderr.split('\n').length, 2, bad.stderr)
      const pruned = run(['image', 'prune', '-f'])
      assert.equal(pruned.status, 0, pruned.stderr)
      assert.match(pruned.stdout, /Total reclaimed space: \d+(\.\d)?[kMG]?B\n$/)
      const cache = run(['builder', 'prune', '-f'])
      assert.equal(cache.status, 0, cache.stderr)
      assert.match(cache.stdout, /^Deleted build cache objects: \d+\nTotal reclaimed space: \d+(\.\d)?[kMG]?B\n$/)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })
})

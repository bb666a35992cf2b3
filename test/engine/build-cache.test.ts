import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pierBin } from '../support/helpers.js'
import { buildBench } from './build-support.js'

describe('embedded engine: the build cache', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
    writeFileSync(join(b.context, 'a.txt'), 'one\n')
    writeFileSync(join(b.context, 'b.txt'), 'bee\n')
  })
  after(() => b.cleanup())

  const dockerfile = `FROM busybox
ARG WHO=world
ENV GREETING=hello
COPY a.txt /a.txt
RUN echo "$GREETING $WHO" > /greeting
COPY b.txt /b.txt
RUN cat /a.txt /b.txt > /both
CMD ["cat", "/greeting"]
`
  const cached = () => b.lines.filter((l) => / CACHED$/.test(l)).length

  it('a rebuild of unchanged input reports every step CACHED, runs nothing, and gives the same image', async () => {
    const first = await b.build(dockerfile)
    assert.equal(cached(), 0)
    const started = Date.now()
    const again = await b.build(dockerfile)
    assert.ok(Date.now() - started < 1000, `the rebuild took ${Date.now() - started} ms`)
    assert.equal(cached(), 7, b.lines.join('\n'))
    assert.equal(again.id, first.id)
    assert.deepEqual(await b.shell(again.id, 'cat /greeting /both'), ['hello world', 'one', 'bee'])
    assert.ok(readdirSync(join(b.env.root, 'images', 'build-cache', 'steps')).length >= 7)
  })

  it('a changed file reruns its COPY and what follows; the steps before stay cached', async () => {
    writeFileSync(join(b.context, 'b.txt'), 'bee two\n')
    const image = await b.build(dockerfile)
    assert.equal(cached(), 4, b.lines.join('\n'))
    assert.deepEqual(await b.shell(image.id, 'cat /both'), ['one', 'bee two'])
  })

  it('a changed build ARG reruns the RUN that sees it, not the steps before', async () => {
    const image = await b.build(dockerfile, { args: { WHO: 'pier' } })
    // ARG, ENV and the first COPY do not use WHO: cached, as Docker keeps them.
    assert.equal(cached(), 3, b.lines.join('\n'))
    assert.deepEqual(await b.shell(image.id, 'cat /greeting'), ['hello pier'])
  })

  it('a changed mode is a change, a touched file with the same content is not', async () => {
    await b.build(dockerfile)
    writeFileSync(join(b.context, 'a.txt'), 'one\n')
    await b.build(dockerfile)
    assert.equal(cached(), 7)
    const { chmodSync } = await import('node:fs')
    chmodSync(join(b.context, 'a.txt'), 0o600)
    await b.build(dockerfile)
    assert.equal(cached(), 2)
  })

  it('--no-cache runs every step', async () => {
    await b.build(dockerfile, { noCache: true })
    assert.equal(cached(), 0)
    assert.ok(b.lines.some((l) => /^#\d+ \[5\/8\] RUN echo/.test(l)), b.lines.join('\n'))
  })

  it('pier build reuses the cache; pier build --no-cache does not', () => {
    writeFileSync(join(b.context, 'Dockerfile'), dockerfile)
    writeFileSync(join(b.context, 'compose.yaml'), 'services:\n  app:\n    build: .\n')
    const pier = (...args: string[]) => execFileSync(process.execPath, [pierBin, 'build', ...args], { cwd: b.context, env: { ...process.env, PIER_ROOT: b.env.root }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const cachedIn = (args: string[]) => {
      const out = spawnSync(process.execPath, [pierBin, 'build', ...args], { cwd: b.context, env: { ...process.env, PIER_ROOT: b.env.root }, encoding: 'utf8' })
      assert.equal(out.status, 0, out.stderr)
      return out.stderr.split('\n').filter((l) => / CACHED$/.test(l)).length
    }
    pier()
    assert.equal(cachedIn([]), 7)
    assert.equal(cachedIn(['--no-cache']), 0)
  })
})

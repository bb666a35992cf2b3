import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engineWithBusybox, specFor } from '../support/containers.js'
import { BUSYBOX } from '../support/images.js'

describe('embedded engine: building images', function () {
  this.timeout(60_000)
  let env: Awaited<ReturnType<typeof engineWithBusybox>>
  let context: string
  const lines: string[] = []
  const build = (dockerfile: string, tags: string[], args: Record<string, string> = {}) => env.engine.buildImage({ context, dockerfileInline: dockerfile, args, labels: { 'com.example.built-by': 'test' }, tags }, { output: (l) => lines.push(l) })

  before(async () => {
    env = await engineWithBusybox()
    context = mkdtempSync(join(tmpdir(), 'pier-context-'))
    execFileSync('cp', [BUSYBOX, join(context, 'busybox')])
    mkdirSync(join(context, 'site'))
    writeFileSync(join(context, 'site', 'index.html'), 'hello\n')
    writeFileSync(join(context, 'site', 'about.html'), 'about\n')
    symlinkSync('/etc/passwd', join(context, 'escape'))
  })
  after(async () => {
    rmSync(context, { recursive: true, force: true })
    await env.cleanup()
  })

  it('builds from scratch: COPY, RUN, WORKDIR, ENV, ARG, CMD, EXPOSE, LABEL, HEALTHCHECK, USER; the result runs', async () => {
    const image = await build(
      `ARG GREETING=hi
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ARG GREETING
ENV PATH=/bin WHO="the builder"
WORKDIR /srv/www
COPY site/ ./
COPY site/*.html /copies/
RUN echo "$GREETING from $WHO" > greeting.txt && rm about.html && mkdir -p /home/app && echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd
EXPOSE 8080 53/udp
LABEL org.example.name=demo
HEALTHCHECK --interval=2s --retries=4 CMD wget -q -O /dev/null http://127.0.0.1:8080/
USER app
CMD ["httpd", "-f", "-p", "8080"]
`,
      ['built:latest'],
      { GREETING: 'hello' },
    )
    assert.deepEqual(image.tags, ['docker.io/library/built:latest'])
    assert.deepEqual(image.config.cmd, ['httpd', '-f', '-p', '8080'])
    assert.equal(image.config.workingDir, '/srv/www')
    assert.equal(image.config.user, 'app')
    assert.deepEqual(image.config.exposedPorts.sort(), ['53/udp', '8080/tcp'])
    assert.equal(image.config.labels['org.example.name'], 'demo')
    assert.equal(image.config.labels['com.example.built-by'], 'test')
    assert.deepEqual(image.config.healthcheck?.test, ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/'])
    assert.equal(image.config.healthcheck?.interval, 2000)
    assert.equal(image.config.healthcheck?.retries, 4)
    assert.ok(lines.includes('#3 [3/14] RUN ["/bin/busybox", "--install", "-s", "/bin"]'), lines.join('\n'))

    // The spec carries the image's defaults (the planner applies them; the engine adds none).
    const defaults = { workingDir: image.config.workingDir!, user: image.config.user!, env: Object.fromEntries(image.config.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) }
    const c = await env.engine.createContainer(specFor('built-check', ['sh', '-c', 'cat greeting.txt; ls; ls /copies; id -u; ls -d /proc/1 >/dev/null && echo proc'], { image: 'built', ...defaults }))
    await env.engine.start(c.id)
    assert.equal(await env.engine.wait(c.id), 0)
    const out: string[] = []
    for await (const l of env.engine.logs(c.id)) out.push(l.text)
    // about.html was removed by a RUN: a whiteout in that layer hides it.
    assert.deepEqual(out, ['hello from the builder', 'greeting.txt', 'index.html', 'about.html', 'index.html', '1000', 'proc'])
    await env.engine.remove(c.id)
  })

  it('fails with one clear line and names nothing when a step fails or the input is wrong', async () => {
    const before = (await env.engine.listImages()).length
    const cases: [string, RegExp][] = [
      ['FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "false"]\n', /Dockerfile line 3: RUN \["\/bin\/busybox", "false"\] failed with exit code 1/],
      ['FROM scratch\nCOPY nothing-here /x\n', /Dockerfile line 2: nothing-here not found in the build context/],
      ['FROM scratch\nCOPY ../../etc/passwd /x\n', /is outside the build context/],
      ['FROM scratch\nONBUILD RUN true\n', /Dockerfile line 2: ONBUILD is not supported by pier's builder/],
      ['RUN true\n', /the Dockerfile has no FROM instruction/],
      ['FROM scratch\nRUN true\n', /RUN needs something to run on: FROM scratch has no files yet/],
      ['FROM scratch\nCOPY busybox /bin/busybox\nRUN --mount=type=ssh ["/bin/busybox", "true"]\n', /Dockerfile line 3: RUN --mount=type=ssh is not supported by pier's builder/],
      ['FROM scratch\nCOPY busybox /bin/busybox\nRUN --network=none ["/bin/busybox", "true"]\n', /Dockerfile line 3: RUN --network is not supported by pier's builder/],
      ['FROM scratch\nADD https://example.com/x /x\n', /ADD from a URL is not supported/],
    ]
    for (const [dockerfile, error] of cases) await assert.rejects(build(dockerfile, ['broken:latest']), error)
    assert.equal((await env.engine.listImages()).length, before)
    assert.equal(await env.engine.inspectImage('broken'), undefined)
    assert.deepEqual(readdirSync(join(env.root, 'tmp')), [], 'no build directory is left')
    assert.doesNotMatch(readFileSyncSafe('/proc/self/mountinfo'), /pier-root.*tmp\/build/)
  })

  it('copies a symlink as a symlink, never what it points to outside the context', async () => {
    const image = await build('FROM busybox\nCOPY escape /escape\n', ['links:latest'])
    const c = await env.engine.createContainer(specFor('link-check', ['sh', '-c', 'ls -l /escape'], { image: image.id }))
    await env.engine.start(c.id)
    await env.engine.wait(c.id)
    const out: string[] = []
    for await (const l of env.engine.logs(c.id)) out.push(l.text)
    assert.match(out.join('\n'), /\/escape -> \/etc\/passwd/)
    await env.engine.remove(c.id)
  })
})

function readFileSyncSafe(path: string): string {
  return execFileSync('cat', [path], { encoding: 'utf8' })
}

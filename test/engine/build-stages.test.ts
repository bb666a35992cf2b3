import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildBench } from './build-support.js'

describe('embedded engine: multi-stage builds', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
    writeFileSync(join(b.context, 'src.txt'), 'source\n')
  })
  after(() => b.cleanup())

  const dockerfile = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE} AS build
COPY src.txt /src/
RUN cat /src/src.txt /src/src.txt > /src/out.txt

FROM build AS test
RUN echo tested > /tested

FROM scratch AS unused
COPY src.txt /never

FROM \${BASE}
COPY --from=build /src/out.txt /app/out.txt
COPY --from=busybox /bin/busybox /app/busybox-copy
CMD ["cat", "/app/out.txt"]
`

  it('builds the last stage from the stages it needs, and only those', async () => {
    const image = await b.build(dockerfile)
    const steps = b.lines.filter((l) => /^#\d+ \[/.test(l))
    assert.ok(steps.some((l) => /^#\d+ \[build 2\/3\] COPY src.txt \/src\/$/.test(l)), steps.join('\n'))
    assert.ok(!steps.some((l) => /\[(test|unused) /.test(l)), `stages not needed were built:\n${steps.join('\n')}`)
    assert.ok(steps.some((l) => /\[stage-3 2\/4\] COPY --from=build /.test(l)), steps.join('\n'))
    assert.deepEqual(await b.shell(image.id, 'cat /app/out.txt; test -x /app/busybox-copy && echo copied; test -e /src || echo no-src'), ['source', 'source', 'copied', 'no-src'])
  })

  it('builds a target stage (FROM another stage), with what it inherits', async () => {
    const image = await b.build(dockerfile, { target: 'test' })
    assert.deepEqual(await b.shell(image.id, 'cat /tested /src/out.txt'), ['tested', 'source', 'source'])
    await assert.rejects(b.build(dockerfile, { target: 'nope' }), /build target "nope" is not a stage of the Dockerfile \(stages: build, test, unused\)/)
  })

  it('takes a global ARG in FROM lines, as --build-arg overrides it', async () => {
    // From scratch, stage build has no shell: the RUN fails.
    await assert.rejects(b.build(dockerfile, { args: { BASE: "scratch" } }), /Dockerfile line 5: RUN cat .* failed with exit code 1/)
  })

  it('gives BuildKit\'s platform ARGs the host\'s values and refuses another platform', async () => {
    const image = await b.build('FROM --platform=$BUILDPLATFORM busybox\nARG TARGETARCH\nRUN echo $TARGETARCH > /arch\n')
    assert.deepEqual(await b.shell(image.id, 'cat /arch'), [process.arch === 'x64' ? 'amd64' : process.arch])
    await assert.rejects(b.build('FROM --platform=linux/s390x busybox\n'), /Dockerfile line 1: FROM --platform=linux\/s390x: pier builds for this machine's platform \(linux\/\w+\) only/)
  })

  it('refuses a stage reading from itself or one that comes later', async () => {
    await assert.rejects(b.build('FROM busybox AS a\nCOPY --from=a /x /y\n'), /a stage cannot read from itself/)
  })
})

import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildBench } from './build-support.js'

describe('embedded engine: BuildKit syntax people write', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
    mkdirSync(join(b.context, 'conf'))
    writeFileSync(join(b.context, 'conf', 'app.conf'), 'port=80\n')
  })
  after(() => b.cleanup())

  it('runs heredocs: RUN <<EOF as a script, a heredoc fed to a command, COPY <<EOF as a file', async () => {
    const image = await b.build(`# syntax=docker/dockerfile:1.7
FROM busybox
ENV NAME=pier
RUN <<EOF
echo "first \${NAME}" > /one
echo second >> /one
EOF
RUN cat <<EOT > /two
from a heredoc
EOT
COPY <<EOF /etc/motd
hello $NAME
EOF
COPY <<'EOF' /raw
kept $NAME
EOF
`)
    assert.deepEqual(await b.shell(image.id, 'cat /one /two /etc/motd /raw'), ['first pier', 'second', 'from a heredoc', 'hello pier', 'kept $NAME'])
  })

  it('keeps a RUN --mount=type=cache directory between builds, out of the image', async () => {
    const dockerfile = (tag: string) => `FROM busybox\nRUN --mount=type=cache,target=/cache echo ${tag} >> /cache/runs && cat /cache/runs > /seen\n`
    await b.build(dockerfile('a'))
    const image = await b.build(dockerfile('b'))
    assert.deepEqual(await b.shell(image.id, 'cat /seen; ls /cache 2>/dev/null | wc -l'), ['a', 'b', '0'])
  })

  it('bind-mounts from the context and from a stage, read-only; their content keys the RUN', async () => {
    const dockerfile = `FROM busybox AS tools
RUN echo tool > /tool
FROM busybox
RUN --mount=type=bind,source=conf,target=/conf --mount=type=bind,from=tools,source=/tool,target=/t cat /conf/app.conf /t > /got && (touch /conf/x 2>/dev/null && echo writable || echo read-only) >> /got
`
    const image = await b.build(dockerfile)
    assert.deepEqual(await b.shell(image.id, 'cat /got; test -e /conf || echo no-conf'), ['port=80', 'tool', 'read-only', 'no-conf'])
    writeFileSync(join(b.context, 'conf', 'app.conf'), 'port=81\n')
    const changed = await b.build(dockerfile)
    assert.deepEqual(await b.shell(changed.id, 'head -1 /got'), ['port=81'])
  })

  it('refuses the flags it does not implement in one line naming flag and line', async () => {
    for (const [line, flag] of [['RUN --mount=type=ssh true', 'RUN --mount=type=ssh'], ['RUN --security=insecure true', 'RUN --security'], ['COPY --parents a /b', 'COPY --parents']]) {
      await assert.rejects(b.build(`FROM busybox\n${line}\n`), (err: Error) => err.message.startsWith(`Dockerfile line 2: ${flag} is not supported`) && !err.message.includes('\n'))
    }
  })
})

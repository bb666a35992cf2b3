import assert from 'node:assert/strict'
import { EngineProject } from '../support/engine-project.js'

/**
 * The `build:` options past the Dockerfile, on the embedded engine, through
 * `pier build`: named contexts (a directory, another service's image, an
 * image), the RUN steps' network, /dev/shm size and extra hosts, and a
 * build secret; `ssh` refused in one line.
 */
describe('pier build: additional_contexts, network, shm_size, extra_hosts, secrets', function () {
  this.timeout(90_000)
  let project: EngineProject
  const name = `pier-buildopts-${process.pid}`

  before(async () => {
    project = await EngineProject.create({
      'compose.yaml': `name: ${name}
services:
  base:
    image: ${name}-base
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo from base > /base
  app:
    build:
      context: .
      dockerfile_inline: |
        FROM bb
        COPY --from=extra hello.txt /hello.txt
        COPY --from=baseimg /base /base
        RUN --mount=type=secret,id=token cat /run/secrets/token > /token-copy
        RUN --mount=type=secret,id=absent echo optional secrets may be missing
        RUN grep db.example /etc/hosts > /hosts-line
        RUN ip -o link | wc -l > /links
        RUN df -k /dev/shm | tail -n 1 > /shm
      additional_contexts:
        extra: ./extra
        baseimg: service:base
        bb: docker-image://busybox
      network: none
      shm_size: 16m
      extra_hosts: ["db.example=10.1.2.3"]
      secrets: [token]
    command: ["sh", "-c", "cat /hello.txt /base /token-copy /hosts-line /links; cat /shm"]
secrets:
  token:
    file: ./token.txt
`,
      'extra/hello.txt': 'hello from a named context\n',
      'token.txt': 's3cret-token\n',
      'ssh.yaml': `name: ${name}-ssh\nservices:\n  s:\n    build:\n      context: .\n      dockerfile_inline: "FROM busybox\\n"\n      ssh: [default]\n`,
      'required.yaml': `name: ${name}-req\nservices:\n  r:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM busybox\n        RUN --mount=type=secret,id=missing,required=true true\n`,
    })
  })
  after(() => project.dispose(['down', '-t', '0', '--rmi', 'all']))

  it("builds with every option: the named contexts' files, the secret, the hosts line, no network, the shm size; the secret is not in the image", () => {
    const built = project.run(['build', 'app'])
    assert.equal(built.status, 0, built.stderr)
    const out = project.run(['run', '--rm', '-T', 'app'])
    assert.equal(out.status, 0, out.stderr)
    const lines = out.stdout.trimEnd().split('\n')
    assert.deepEqual(lines.slice(0, 4), ['hello from a named context', 'from base', 's3cret-token', '10.1.2.3\tdb.example'])
    assert.equal(lines[4].trim(), '1', 'loopback alone: network none')
    assert.match(lines[5], /\s16384\s/)
    const inImage = project.run(['run', '--rm', '-T', 'app', 'sh', '-c', 'ls /run/secrets 2>&1; grep -c db.example /etc/hosts'])
    assert.doesNotMatch(inImage.stdout, /token/, 'the secret was mounted, never written')
    assert.match(inImage.stdout, /^0$/m, 'extra_hosts are the build steps\', not the image\'s')
  })

  it('refuses ssh, and a missing required secret, in one line', () => {
    const ssh = project.run(['-f', 'ssh.yaml', 'build'])
    assert.deepEqual([ssh.status, ssh.stderr], [1, 'error: service "s": build.ssh is not supported: pier\'s builder forwards no SSH agent; fetch what needs it before the build, or use build secrets\n'])
    const required = project.run(['-f', 'required.yaml', 'build'])
    assert.equal(required.status, 1)
    assert.match(required.stderr, /RUN --mount=type=secret,id=missing is required, and the build has no secret missing \(build\.secrets in the Compose file\)\n$/)
    assert.equal(required.stderr.trimEnd().split('\n').filter((l) => l.startsWith('error:')).length, 1)
  })
})

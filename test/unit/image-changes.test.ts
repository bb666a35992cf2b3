import assert from 'node:assert/strict'
import { parseDockerfile } from '../../src/engine/embedded/build/dockerfile.js'
import { applyChanges } from '../../src/engine/embedded/images/changes.js'
import { EngineError } from '../../src/engine/errors.js'
import { serverKey } from '../../src/engine/credentials.js'

describe('Dockerfile exec forms and -c/--change instructions', () => {
  it('reads the exec form as JSON, spaces inside strings kept; anything else is the shell form', () => {
    const steps = parseDockerfile('FROM scratch\nCMD ["sh", "-c", "cat /made; echo $G"]\nENTRYPOINT [ "a b" ]\nCMD echo [x]\nCMD [\'single\']\n').stages[0].steps
    assert.deepEqual(steps.map((s) => s.json), [['sh', '-c', 'cat /made; echo $G'], ['a b'], undefined, undefined])
  })

  it('applies changes as a Dockerfile would, on a copy, with the image ENV in scope', () => {
    const base = { Env: ['PATH=/bin', 'HOME=/root'], Cmd: ['sh'], WorkingDir: '/srv' }
    const out = applyChanges(base, ['ENV GREETING=hi', 'WORKDIR app', 'CMD ["echo", "$HOME"]', 'EXPOSE 80', 'LABEL a=b', 'USER nobody', 'ENTRYPOINT ["/bin/tini", "--"]', 'VOLUME /data', 'STOPSIGNAL SIGINT'])
    assert.deepEqual(out.Env, ['PATH=/bin', 'HOME=/root', 'GREETING=hi'])
    assert.equal(out.WorkingDir, '/srv/app')
    assert.deepEqual(out.Cmd, ['echo', '$HOME'])
    assert.deepEqual(out.Entrypoint, ['/bin/tini', '--'])
    assert.deepEqual([out.ExposedPorts, out.Labels, out.User, out.Volumes, out.StopSignal], [{ '80/tcp': {} }, { a: 'b' }, 'nobody', { '/data': {} }, 'SIGINT'])
    assert.deepEqual(base.Cmd, ['sh'], 'the input is untouched')
    assert.deepEqual(applyChanges(base, ['CMD echo $HOME']).Cmd, ['/bin/sh', '-c', 'echo $HOME'])
  })

  it('refuses instructions that would need a build, in one line', () => {
    for (const change of ['RUN rm -rf /', 'COPY . /', 'FROM busybox', '']) {
      assert.throws(() => applyChanges({}, [change]), (e: unknown) => e instanceof EngineError && e.code === 'invalid' && /cannot change an image here; use CMD, ENTRYPOINT/.test(e.message) && !e.message.includes('\n'))
    }
  })

  it("names registries in config.json as the docker CLI does (Docker Hub by its v1 URL)", () => {
    assert.equal(serverKey('docker.io'), 'https://index.docker.io/v1/')
    assert.equal(serverKey('registry-1.docker.io'), 'https://index.docker.io/v1/')
    assert.equal(serverKey('https://127.0.0.1:5000/'), '127.0.0.1:5000')
    assert.equal(serverKey('ghcr.io'), 'ghcr.io')
  })
})

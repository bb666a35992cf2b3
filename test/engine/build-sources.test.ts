import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildBench } from './build-support.js'

describe('embedded engine: what COPY and ADD take', function () {
  this.timeout(60_000)
  let b: Awaited<ReturnType<typeof buildBench>>
  before(async () => {
    b = await buildBench()
    mkdirSync(join(b.context, 'app', 'logs'), { recursive: true })
    mkdirSync(join(b.context, 'app', 'node_modules', 'dep'), { recursive: true })
    writeFileSync(join(b.context, 'app', 'main.js'), 'main\n')
    writeFileSync(join(b.context, 'app', 'logs', 'x.log'), 'log\n')
    writeFileSync(join(b.context, 'app', 'logs', 'keep.log'), 'kept\n')
    writeFileSync(join(b.context, 'app', 'node_modules', 'dep', 'index.js'), 'dep\n')
    writeFileSync(join(b.context, 'secret.env'), 'TOKEN=1\n')
    writeFileSync(join(b.context, '.dockerignore'), '# not sent\n**/node_modules\n/secret.env\napp/logs\n!app/logs/keep.log\n')
    mkdirSync(join(b.context, 'tree', 'sub'), { recursive: true })
    writeFileSync(join(b.context, 'tree', 'sub', 'f'), 'in the archive\n')
    execFileSync('tar', ['-C', join(b.context, 'tree'), '-czf', join(b.context, 'bundle.tgz'), '.'])
    execFileSync('tar', ['-C', join(b.context, 'tree'), '-cf', join(b.context, 'plain.dat'), '.'])
  })
  after(() => b.cleanup())

  it('leaves out what .dockerignore names, ! exceptions back in; a changed .dockerignore changes the key', async () => {
    const image = await b.build('FROM busybox\nCOPY app /app\n')
    assert.deepEqual(await b.shell(image.id, 'ls -R /app | grep -v "^$"'), ['/app:', 'logs', 'main.js', '/app/logs:', 'keep.log'])
    await assert.rejects(b.build('FROM busybox\nCOPY secret.env /\n'), /Dockerfile line 2: secret.env not found in the build context/)
    writeFileSync(join(b.context, '.dockerignore'), '**/node_modules\n')
    const again = await b.build('FROM busybox\nCOPY app /app\n')
    assert.deepEqual(await b.shell(again.id, 'ls /app/logs'), ['keep.log', 'x.log'])
    writeFileSync(join(b.context, '.dockerignore'), '# not sent\n**/node_modules\n/secret.env\napp/logs\n!app/logs/keep.log\n')
  })

  it('ADD unpacks a local archive (gzip or not, whatever its name); COPY does not', async () => {
    const image = await b.build('FROM busybox\nADD bundle.tgz /opt/\nADD plain.dat /plain\nCOPY bundle.tgz /copied.tgz\n')
    assert.deepEqual(await b.shell(image.id, 'cat /opt/sub/f /plain/sub/f; test -f /copied.tgz && echo file'), ['in the archive', 'in the archive', 'file'])
  })

  it('--chown by name, from the image\'s /etc/passwd and /etc/group', async () => {
    const image = await b.build(`FROM busybox
RUN mkdir -p /etc && echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'staff:x:50:' >> /etc/group
COPY --chown=app:staff app/main.js /main.js
COPY --chown=app app/main.js /main2.js
COPY --chown=7:8 app/main.js /main3.js
`)
    assert.deepEqual(await b.shell(image.id, 'ls -n /main.js /main2.js /main3.js | while read m l u g r; do echo $u:$g; done'), ['1000:50', '1000:1000', '7:8'])
    await assert.rejects(b.build('FROM busybox\nCOPY --chown=nobody-here app/main.js /x\n'), /Dockerfile line 2: --chown=nobody-here: unable to find user nobody-here/)
  })
})

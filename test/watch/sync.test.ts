import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually, watchSessions } from './session.js'

/**
 * `action: sync` on a real container: what a user sees when they save,
 * delete, chmod, make directories and links, and what is never sent.
 */
describe('watch: sync', function () {
  this.timeout(60_000)
  const sessions = watchSessions()

  const compose = (rules: string, extra = '') => `services:
  web:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
${extra}    develop:
      watch:
${rules}`

  it('sends a saved file, a new directory with its files, a link as a link and a mode change; deletes propagate', async () => {
    const session = await sessions.start('sync', {
      'compose.yaml': compose('        - { action: sync, path: ./src, target: /app }\n'),
      'src/index.html': 'one\n',
    })
    session.write('src/index.html', 'two\n')
    await eventually(() => session.cat('web', '/app/index.html'), (v) => v === 'two\n', 'the saved file in the container')
    assert.match(session.messages.join('\n'), /web: synced 1 file in \d+ ms/)

    mkdirSync(session.dir.path('src/a/b'), { recursive: true })
    session.write('src/a/b/deep.txt', 'deep\n')
    symlinkSync('a/b/deep.txt', session.dir.path('src/link'))
    session.write('src/run.sh', '#!/bin/sh\n')
    chmodSync(session.dir.path('src/run.sh'), 0o751)
    await eventually(async () => (await session.trees('web', 'src', '/app')), (t) => JSON.stringify(sorted(t.host)) === JSON.stringify(sorted(t.container)), 'the container tree equal to the host tree')
    const r = await sessions.engine.exec((await session.container('web')).id, { argv: ['sh', '-c', 'readlink /app/link; stat -c %a /app/run.sh; cat /app/link'] })
    assert.equal(r.stdout, 'a/b/deep.txt\n751\ndeep\n')

    session.remove('src/a')
    session.remove('src/index.html')
    await eventually(async () => (await session.trees('web', 'src', '/app')), (t) => JSON.stringify(sorted(t.host)) === JSON.stringify(sorted(t.container)), () => `the deletes in the container (${[...session.messages, ...session.warnings].join('; ')})`)
    assert.equal(await session.cat('web', '/app/index.html'), undefined)
  })

  it('ignores .git, editor files, ignore patterns and the build context .dockerignore; include selects; node_modules changes send nothing', async () => {
    const session = await sessions.start('ignore', {
      'compose.yaml': compose(
        `        - action: sync
          path: .
          target: /app
          ignore: [secret.txt]
        - action: sync
          path: ./docs
          target: /docs
          include: ["*.md"]
`,
        `    build: { context: ., dockerfile_inline: "FROM busybox" }\n`,
      ),
      '.dockerignore': 'node_modules\n*.log\n!keep.log\n',
      'docs/a.md': 'a\n',
      'keep': '',
    })
    for (const f of ['secret.txt', 'x.log', 'node_modules/dep/index.js', '.git/HEAD', '.main.ts.swp', 'main.ts~', 'docs/b.txt']) session.write(f, 'no\n')
    session.write('keep.log', 'kept\n')
    session.write('docs/c.md', 'c\n')
    await eventually(() => session.cat('web', '/docs/c.md'), (v) => v === 'c\n', 'the included file')
    await eventually(() => session.cat('web', '/app/keep.log'), (v) => v === 'kept\n', 'the file a ! exception keeps')
    const r = await sessions.engine.exec((await session.container('web')).id, { argv: ['sh', '-c', 'cd /app && ls -a . node_modules .git 2>&1'] })
    for (const absent of ['secret.txt', 'x.log', '.main.ts.swp', 'main.ts~', 'HEAD', 'index.js']) assert.ok(!r.stdout!.includes(absent), `${absent} was sent: ${r.stdout}`)
    assert.equal((await sessions.engine.exec((await session.container('web')).id, { argv: ['ls', '/docs'] })).stdout, 'c.md\n', 'a.md was there before the watch: only initial_sync sends it')
  })

  it('refuses a write through a link the container made that leads out of its root, says so in one line, and keeps watching', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'pier-watch-outside-'))
    try {
      const session = await sessions.start('escape', {
        'compose.yaml': compose('        - { action: sync, path: ./src, target: /app }\n'),
        'src/out/.keep': '',
      })
      // In the container, /app/out is a link to a path that, read on the host, is the directory outside.
      await sessions.engine.exec((await session.container('web')).id, { argv: ['sh', '-c', `mkdir -p /app && ln -s ${outside} /app/out`] })
      session.write('src/out/file.txt', 'escape\n')
      await eventually(() => session.warnings, (w) => w.length > 0, 'a warning')
      assert.match(session.warnings[0], /^web: sync to .*web-1:\/app failed: .*symlink "out".*; still watching$/)
      assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the container')
      session.write('src/ok.txt', 'ok\n')
      await eventually(() => session.cat('web', '/app/ok.txt'), (v) => v === 'ok\n', 'the next sync')
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  it('sends nothing unchanged: a save with the same content is no sync line', async () => {
    const session = await sessions.start('same', {
      'compose.yaml': compose('        - { action: sync, path: ./src, target: /app }\n'),
      'src/a.txt': 'a\n',
    })
    session.write('src/a.txt', 'b\n')
    await eventually(() => session.cat('web', '/app/a.txt'), (v) => v === 'b\n', 'the change')
    const before = session.messages.length
    session.write('src/a.txt', 'b\n')
    await new Promise((r) => setTimeout(r, 600))
    assert.deepEqual(session.messages.slice(before), [])
  })
})

const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort())

import assert from 'node:assert/strict'
import { up } from '../../src/compose/up.js'
import { eventually, watchSessions, type WatchSession } from './session.js'

/**
 * What Compose's watch loses and pier's does not: changes made while a
 * container was stopped or restarting, a recreated container (it holds its
 * image's files), and a rebuild that must recreate one service only.
 */
describe('watch: resync after stop, restart, recreate; rebuild', function () {
  this.timeout(90_000)
  const sessions = watchSessions()

  const synced = (s: WatchSession) => async () => {
    const t = await s.trees('web', 'src', '/app')
    return JSON.stringify(Object.entries(t.host).sort()) === JSON.stringify(Object.entries(t.container).sort()) ? 'equal' : JSON.stringify(t)
  }
  const simple = `services:
  web:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    develop:
      watch:
        - { action: sync, path: ./src, target: /app, initial_sync: true }
`

  it('a delete and an edit made while the container is stopped are there when it runs again', async () => {
    const session = await sessions.start('stopped', { 'compose.yaml': simple, 'src/.keep': '' })
    session.write('src/a.txt', 'a\n')
    session.write('src/b.txt', 'b\n')
    await eventually(synced(session), (v) => v === 'equal', 'the first sync')
    const id = (await session.container('web')).id
    await sessions.engine.stop(id)
    session.remove('src/a.txt')
    session.write('src/b.txt', 'b2\n')
    await new Promise((r) => setTimeout(r, 400))
    await sessions.engine.start(id)
    await eventually(synced(session), (v) => v === 'equal', 'the tree after the start')
    assert.deepEqual(session.warnings, [])
  })

  it('a restart in the middle of a burst of edits ends with the container tree equal to the host tree', async () => {
    const session = await sessions.start('burst', { 'compose.yaml': simple, 'src/.keep': '' })
    const id = (await session.container('web')).id
    for (let i = 0; i < 300; i++) {
      session.write(`src/d${i % 7}/f${i}.txt`, `${i}\n`)
      if (i % 50 === 49) session.remove(`src/d${(i / 50) % 7}`)
      if (i === 120) void sessions.engine.stop(id).then(() => sessions.engine.start(id))
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5))
    }
    await eventually(synced(session), (v) => v === 'equal', 'the tree after the burst', 20_000)
  })

  it('a recreated container gets exactly what differs from its image', async () => {
    const session = await sessions.start('recreate', {
      'compose.yaml': `services:
  web:
    build: { context: ., dockerfile_inline: "FROM busybox\\nCOPY src /app\\nCMD [\\"sleep\\", \\"3600\\"]" }
    stop_signal: SIGKILL
    develop:
      watch:
        - { action: sync, path: ./src, target: /app }
`,
      'src/one.txt': '1\n',
      'src/two.txt': '2\n',
      'src/sub/three.txt': '3\n',
    })
    session.write('src/two.txt', 'two, edited\n')
    await eventually(() => session.cat('web', '/app/two.txt'), (v) => v === 'two, edited\n', 'the edit')
    const before = (await session.container('web')).id
    const lines = session.messages.length
    await up(session.ctx, session.project, { forceRecreate: true })
    assert.notEqual((await session.container('web')).id, before)
    await eventually(synced(session), (v) => v === 'equal', 'the recreated container')
    const resync = session.messages.slice(lines).filter((m) => m.includes('new container'))
    assert.equal(resync.length, 1, session.messages.join('; '))
    assert.match(resync[0], /web-1: synced 1 file \(new container\)/)
  })

  it('rebuild builds the image and recreates that service only: not its dependencies, not its dependents; prune removes the image it replaced', async () => {
    const session = await sessions.start('rebuild', {
      'compose.yaml': `services:
  db:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  api:
    build: { context: ./api, dockerfile_inline: "FROM busybox\\nCOPY version /version\\nCMD [\\"sleep\\", \\"3600\\"]" }
    stop_signal: SIGKILL
    depends_on: [db]
    develop:
      watch:
        - { action: rebuild, path: ./api }
  web:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    depends_on: [api]
`,
      'api/version': 'v1\n',
    }, { prune: true })
    const oldImage = (await session.container('api')).image
    const ids = async () => Object.fromEntries(await Promise.all(['db', 'api', 'web'].map(async (s) => [s, (await session.container(s)).id])))
    const before = await ids()
    session.write('api/version', 'v2\n')
    await eventually(() => session.cat('api', '/version'), (v) => v === 'v2\n', () => `the rebuilt service (${[...session.messages, ...session.warnings].join('; ')})`, 30_000)
    const after = await ids()
    assert.notEqual(after.api, before.api)
    assert.equal(after.db, before.db)
    assert.equal(after.web, before.web)
    // Said once the rebuild (and its prune) is done.
    await eventually(() => session.messages.join('\n'), (m) => /api: rebuilt and recreated in \d/.test(m), 'the rebuild line')
    assert.equal(await sessions.engine.inspectImage(oldImage), undefined, 'with prune, the replaced image is gone')
  })
})

import assert from 'node:assert/strict'
import { eventually, watchSessions, type WatchSession } from './session.js'

/**
 * restart, sync+restart, sync+exec and initial_sync on real containers:
 * one restart per batch, the hook once per batch, run with its user,
 * directory and environment.
 */
describe('watch: restart, sync+restart, sync+exec, initial_sync', function () {
  this.timeout(60_000)
  const sessions = watchSessions()

  // Each start appends a line to /starts (kept across restarts: same container).
  const service = (rules: string) => `services:
  web:
    image: busybox
    command: ["sh", "-c", "date >> /starts; exec sleep 3600"]
    stop_signal: SIGKILL
    develop:
      watch:
${rules}`
  const starts = async (session: WatchSession) => (await session.cat('web', '/starts'))?.trim().split('\n').length ?? 0

  it('sync+restart sends a burst of saves and restarts once', async () => {
    const session = await sessions.start('syncrestart', {
      'compose.yaml': service('        - { action: sync+restart, path: ./conf, target: /etc/app }\n'),
      'conf/a.conf': 'a=1\n',
    })
    assert.equal(await starts(session), 1)
    for (let i = 0; i < 5; i++) session.write(`conf/f${i}.conf`, `x=${i}\n`)
    await eventually(() => session.messages.find((m) => m.includes('restarted')), (m) => m !== undefined, () => `a restart line in ${session.messages.join('; ')}`)
    assert.match(session.messages.find((m) => m.includes('restarted'))!, /^web: synced 5 files, restarted in \d+/)
    await new Promise((r) => setTimeout(r, 700))
    assert.equal(await starts(session), 2, 'one restart for the batch')
    assert.equal(await session.cat('web', '/etc/app/f4.conf'), 'x=4\n')
  })

  it('restart restarts on a change under its path and sends nothing', async () => {
    const session = await sessions.start('restart', {
      'compose.yaml': service('        - { action: restart, path: ./conf }\n'),
      'conf/a.conf': 'a=1\n',
    })
    session.write('conf/a.conf', 'a=2\n')
    await eventually(() => starts(session), (n) => n === 2, 'the restart')
    assert.equal(await session.cat('web', '/conf/a.conf'), undefined)
    assert.match(session.messages.join('\n'), /web: restarted in/)
  })

  it('sync+exec runs the hook once per batch, with user, working_dir and environment', async () => {
    const session = await sessions.start('exec', {
      'compose.yaml': service(`        - action: sync+exec
          path: ./src
          target: /src
          exec:
            command: ["sh", "-c", "echo $(id -u) $(pwd) $$GREETING $(ls /src | wc -l) >> /tmp/hook"]
            user: "1000"
            working_dir: /tmp
            environment: { GREETING: hello }
`),
      'src/.keep': '',
    })
    session.write('src/one.txt', '1')
    session.write('src/two.txt', '2')
    await eventually(() => session.cat('web', '/tmp/hook'), (v) => v !== undefined, () => `the hook's output (${session.warnings.join('; ')})`)
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(await session.cat('web', '/tmp/hook'), '1000 /tmp hello 2\n')
    assert.match(session.messages.join('\n'), /web: synced 2 files, ran 1 exec hook in/)
  })

  it('a failing hook is one line, and the watch goes on', async () => {
    const session = await sessions.start('hookfail', {
      'compose.yaml': service('        - { action: sync+exec, path: ./src, target: /src, exec: { command: ["sh", "-c", "echo broken >&2; exit 3"] } }\n'),
      'src/.keep': '',
    })
    session.write('src/a', 'a')
    await eventually(() => session.warnings, (w) => w.length > 0, 'a warning')
    assert.match(session.warnings[0], /web: exec hook "sh -c echo broken >&2; exit 3" in .*web-1 exited 3: broken; still watching/)
    session.write('src/b', 'b')
    await eventually(() => session.cat('web', '/src/b'), (v) => v === 'b', 'the next sync')
  })

  it('initial_sync sends what differs when the watch starts, and nothing else', async () => {
    const session = await sessions.start('initial',
      {
        'compose.yaml': service('        - { action: sync, path: ./src, target: /src, initial_sync: true }\n'),
        'src/same.txt': 'same\n',
        'src/new.txt': 'new\n',
        'src/changed.txt': 'host\n',
      },
      {
        // Before the watch: the container already holds two of the files, one of them with other content.
        beforeWatch: async (s) => {
          const id = (await s.container('web')).id
          await sessions.engine.exec(id, { argv: ['sh', '-c', 'mkdir /src && echo same > /src/same.txt && echo container > /src/changed.txt'] })
        },
      },
    )
    assert.equal(await session.cat('web', '/src/new.txt'), 'new\n')
    assert.equal(await session.cat('web', '/src/changed.txt'), 'host\n')
    assert.match(session.messages.join('\n'), /web-1: synced 2 files \(initial sync\)/)
  })
})

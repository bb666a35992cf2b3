import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { untilState } from '../../src/engine/embedded/containers/liveness.js'

describe('untilState: a start waits on state.json through inotify, not a 10 ms poll', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pier-until-'))))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  // As the monitor writes it: a whole new file renamed over the old one.
  const write = (state: object) => {
    writeFileSync(join(dir, 'state.json.tmp'), JSON.stringify(state))
    renameSync(join(dir, 'state.json.tmp'), join(dir, 'state.json'))
  }

  it('resolves with the state once a write satisfies it, through the watch alone', async () => {
    write({ status: 'created', restartCount: 0 })
    // A fallback poll later than the timeout: only the watch can answer.
    const waiting = untilState(dir, (s) => s.status === 'running', 5000, 60_000)
    setTimeout(() => write({ status: 'running', restartCount: 0, pid: 42 }), 5)
    assert.equal((await waiting)?.pid, 42)
  })

  it('answers at once when the state already holds, and undefined after the timeout', async () => {
    write({ status: 'exited', restartCount: 0, finishedAt: 'now' })
    assert.equal((await untilState(dir, (s) => s.status === 'exited', 1000))?.status, 'exited')
    assert.equal(await untilState(dir, (s) => s.status === 'running', 120), undefined)
  })

  it('is not woken into reading state.json by every line of a busy log in the same directory, and still sees the state change', async () => {
    write({ status: 'created', restartCount: 0 })
    let reads = 0
    const waiting = untilState(dir, (s) => (reads++, s.status === 'running'), 5000, 60_000)
    for (let i = 0; i < 200; i++) appendFileSync(join(dir, 'log'), `line ${i}\n`)
    await new Promise((r) => setTimeout(r, 20))
    write({ status: 'running', restartCount: 0 })
    await waiting
    assert.ok(reads < 10, `${reads} reads`)
  })
})

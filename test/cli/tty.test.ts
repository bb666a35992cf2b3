import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { EngineProject } from '../support/engine-project.js'
import { pierBin, type TempProject } from '../support/helpers.js'

/**
 * pier on a real terminal: tmux runs it in a 120x30 pseudo-terminal on its
 * own server socket, and the test reads what the screen shows.
 */
describe('pier on a terminal', function () {
  this.timeout(60_000)
  let project: EngineProject
  let work: TempProject
  let root: string
  const socket = `pier-test-${process.pid}`
  const name = `pier-tty-${process.pid}`
  const run = (args: string[], input?: string) => project.run(args, input)
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })

  /** Runs a pier command in the terminal and returns the screen once `done` shows on it. */
  async function screen(args: string[], done: RegExp, escapes = false): Promise<string> {
    const command = `cd ${work.dir} && PIER_ROOT=${root} PIER_NO_CACHE=1 ${process.execPath} ${pierBin} ${args.join(' ')}; echo "exit=$?"; sleep 60`
    tmux('new-session', '-d', '-x', '120', '-y', '30', command)
    const deadline = Date.now() + 30_000
    for (;;) {
      const shown = tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []))
      if (done.test(shown)) return shown
      if (Date.now() > deadline) throw new Error(`timed out; the screen shows:\n${shown}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  beforeEach(async () => {
    project = await EngineProject.create({
      'compose.yaml': `name: ${name}\nservices:\n  web:\n    image: busybox\n    command: ["sh", "-c", "echo hello from web; sleep 1"]\n  db:\n    image: busybox\n    command: ["sh", "-c", "echo hello from db; sleep 1"]\n`,
    })
    ;({ work, root } = project)
  })
  afterEach(() => {
    try {
      execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' })
    } catch {
      // no server left
    }
    project.dispose()
  })

  it('up -d draws one line per resource, ticked when done', async () => {
    const shown = await screen(['up', '-d'], /exit=\d/)
    const lines = shown.split('\n').filter((l) => l.trim())
    assert.deepEqual(lines, [
      `✔ Network ${name}_default`.padEnd(2 + 40) + ' Created',
      `✔ Container ${name}-db-1`.padEnd(2 + 40) + ' Started',
      `✔ Container ${name}-web-1`.padEnd(2 + 40) + ' Started',
      'exit=0',
    ])
  })

  it('exec gets a terminal when pier has one, and none with -T', async () => {
    work.write({ 'compose.yaml': `name: ${name}\nservices:\n  shell:\n    image: busybox\n    init: true\n    command: ["sleep", "600"]\n` })
    assert.equal(run(['up', '-d', '--progress', 'quiet']).status, 0)
    const shown = await screen(['exec', 'shell', 'sh', '-c', '"tty; [ -t 0 ] && echo stdin-is-a-terminal; exit 3"'], /exit=\d/)
    assert.match(shown, /\/dev\/pts\/\d+\nstdin-is-a-terminal\nexit=3/)
    tmux('kill-server')
    const plain = await screen(['exec', '-T', 'shell', 'sh', '-c', '"tty; exit 0"'], /exit=\d/)
    assert.match(plain, /not a tty\nexit=0/)
  })

  it('run gets a terminal when pier has one', async () => {
    const shown = await screen(['run', '--rm', 'web', 'sh', '-c', '"tty; exit 6"'], /exit=\d/)
    assert.match(shown, /\/dev\/pts\/\d+\s*\nexit=6/)
  })

  it('--ansi never: plain progress lines and no colour, even on a terminal', async () => {
    const shown = await screen(['--ansi', 'never', 'up'], /exit=\d/, true)
    assert.doesNotMatch(shown, /\x1b\[\d+m/)
    assert.match(shown, new RegExp(`Container ${name}-web-1\\s+Started`))
    assert.doesNotMatch(shown, /✔/)
  })

  it('attached up colours each container its own way, and aligns the prefixes', async () => {
    const shown = await screen(['up'], /exit=\d/, true)
    const web = shown.split('\n').find((l) => l.includes('hello from web'))!
    const db = shown.split('\n').find((l) => l.includes('hello from db'))!
    const colour = (line: string) => /\x1b\[(\d+)m/.exec(line)?.[1]
    assert.ok(colour(web) && colour(db) && colour(web) !== colour(db), `${JSON.stringify(web)} / ${JSON.stringify(db)}`)
    const plain = (line: string) => line.replace(/\x1b\[[\d;]*m/g, '')
    assert.equal(plain(db).indexOf('|'), plain(web).indexOf('|'))
    assert.match(shown, /exit=0/)
  })
})

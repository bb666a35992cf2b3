import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { EngineProject } from '../support/engine-project.js'
import { pierBin } from '../support/helpers.js'

/** `pier watch` and `pier up --watch` as a user runs them: the lines they print, Ctrl-C, bad input. */
describe('watch: the CLI', function () {
  this.timeout(90_000)
  let project: EngineProject | undefined
  let child: ChildProcess | undefined
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL')
      await new Promise((r) => child!.once('exit', r))
    }
    child = undefined
    project?.dispose()
    project = undefined
  })

  const compose = (rule: string, name: string) => `name: ${name}
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo up; exec sleep 3600"]
    stop_signal: SIGKILL
    develop:
      watch:
        - ${rule}
`

  it('a watch path that does not exist, or a sync without target, is one line and nothing is started', async () => {
    project = await EngineProject.create({ 'compose.yaml': compose('{ action: sync, path: ./nowhere, target: /app }', `pier-watch-cli-bad-${process.pid}`) })
    const missing = project.run(['watch'])
    assert.equal(missing.status, 1)
    assert.match(missing.stderr, /^error: service "web" develop.watch\[0\]: path \/.*\/nowhere does not exist: create it or fix the path\n$/)
    project.work.write({ 'compose.yaml': compose('{ action: sync, path: . }', `pier-watch-cli-bad-${process.pid}`) })
    const noTarget = project.run(['watch', '--no-up'])
    assert.equal(noTarget.status, 1)
    // The loader refuses it first, where it is written (as `pier config` does).
    assert.match(noTarget.stderr, /^error: compose.yaml:\d+:\d+: services.web.develop.watch\[0\]: a "sync" watch rule needs a target .*\n$/)
    assert.equal(project.run(['ps', '-a', '-q']).stdout, '')
  })

  it('pier watch brings the project up, prints one line per sync, and stops on Ctrl-C', async () => {
    project = await EngineProject.create({ 'compose.yaml': compose('{ action: sync, path: ./src, target: /app }', `pier-watch-cli-${process.pid}`), 'src/index.html': 'one\n' })
    const out = spawnPier(project, ['watch'])
    await out.waitFor(/Watching web for changes/)
    writeFileSync(project.work.path('src/index.html'), 'two\n')
    await out.waitFor(/web: synced 1 file in \d+ ms/)
    assert.equal(project.run(['exec', 'web', 'cat', '/app/index.html']).stdout, 'two\n')
    child!.kill('SIGINT')
    await new Promise((r) => child!.once('exit', r))
    assert.equal(child!.exitCode, 0, out.text())
  })

  it('pier up --watch follows the output and syncs; Ctrl-C stops both', async () => {
    project = await EngineProject.create({ 'compose.yaml': compose('{ action: sync, path: ./src, target: /app }', `pier-watch-cli-up-${process.pid}`), 'src/a.txt': 'a\n' })
    assert.match(project.run(['up', '-d', '--watch']).stderr, /--watch needs the attached mode/)
    const out = spawnPier(project, ['up', '--watch'])
    await out.waitFor(/Watching web for changes/)
    await out.waitFor(/web-1 *\| up/)
    writeFileSync(project.work.path('src/a.txt'), 'b\n')
    await out.waitFor(/web: synced 1 file/)
    child!.kill('SIGINT')
    await new Promise((r) => child!.once('exit', r))
    assert.equal(child!.exitCode, 130, out.text())
    assert.equal(project.run(['ps', '-q']).stdout, '', 'the containers are stopped')
  })

  function spawnPier(p: EngineProject, args: string[]) {
    let text = ''
    child = spawn(process.execPath, [pierBin, '--progress', 'plain', ...args], { cwd: p.work.dir, env: p.env() })
    child.stdout!.on('data', (d) => (text += String(d)))
    child.stderr!.on('data', (d) => (text += String(d)))
    return {
      text: () => text,
      waitFor: async (pattern: RegExp, timeoutMs = 30_000) => {
        const deadline = Date.now() + timeoutMs
        while (!pattern.test(text)) {
          if (Date.now() > deadline || child!.exitCode !== null) throw new Error(`no ${pattern} in:\n${text}`)
          await new Promise((r) => setTimeout(r, 50))
        }
      },
    }
  }
})

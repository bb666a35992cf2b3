import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { EngineProject } from '../support/engine-project.js'
import { pierBin, psJson, shortStatus, type TempProject } from '../support/helpers.js'

describe('pier up, attached', function () {
  this.timeout(60_000)
  let project: EngineProject
  let work: TempProject
  const name = `pier-att-${process.pid}`
  const run = (args: string[], input?: string) => project.run(args, input)

  /** Starts `pier up` (attached) and collects its output; `until` resolves when stderr matches. */
  const start = () => {
    const child = spawn(process.execPath, [pierBin, 'up'], { cwd: work.dir, env: project.env() })
    const out = { stdout: '', stderr: '' }
    child.stdout.on('data', (c: Buffer) => (out.stdout += c))
    child.stderr.on('data', (c: Buffer) => (out.stderr += c))
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const until = async (pattern: RegExp, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs
      while (!pattern.test(out.stdout + out.stderr)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got:\n${out.stderr}\n${out.stdout}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    return { child, out, exited, until }
  }

  beforeEach(async () => {
    project = await EngineProject.create({})
    work = project.work
  })
  afterEach(() => project.dispose(['down', '-t', '0']))

  it("shows every container's output under Compose's name for it (web-1), until all have exited", () => {
    work.write({
      'compose.yaml': `name: ${name}\nservices:\n  first:\n    image: busybox\n    command: ["sh", "-c", "echo one; echo two >&2"]\n  second:\n    image: busybox\n    command: ["sh", "-c", "sleep 0.5; echo three; exit 4"]\n`,
    })
    const up = run(['up'])
    assert.equal(up.status, 0, up.stderr)
    // As Compose v5: on standard output, the container names without the project.
    assert.match(up.stdout, /^Attaching to first-1, second-1\n/)
    const lines = up.stdout.split('\n')
    // Prefixes are aligned to the longest name, and no colour goes to a pipe.
    assert.ok(lines.includes(`first-1  | one`), up.stdout)
    assert.ok(lines.includes(`first-1  | two`), up.stdout)
    assert.ok(lines.includes(`second-1 | three`), up.stdout)
    assert.ok(lines.includes(`first-1 exited with code 0`))
    assert.ok(lines.includes(`second-1 exited with code 4`))
    assert.doesNotMatch(up.stdout, /\x1b\[/)
  })

  it('--exit-code-from stops everything when that service ends and passes its code; --attach, --no-attach, --timestamps, --no-log-prefix', () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  tests:
    image: busybox
    command: ["sh", "-c", "echo testing; sleep 0.5; exit 5"]
  server:
    image: busybox
    init: true
    command: ["sh", "-c", "echo serving; exec sleep 600"]
  noisy:
    image: busybox
    init: true
    command: ["sh", "-c", "echo noise; exec sleep 600"]
`,
    })
    const up = run(['up', '--exit-code-from', 'tests', '--no-attach', 'noisy', '--timestamps'])
    assert.equal(up.status, 5, up.stderr)
    assert.match(up.stderr, /Aborting on container exit/)
    assert.match(up.stdout, /^tests-1\s+\| \d{4}-\d\d-\d\dT[\d:.]+Z testing/m)
    assert.match(up.stdout, /serving/)
    assert.doesNotMatch(up.stdout, /noise/)
    const ps = psJson(run(['ps', '-a', '--format', 'json']).stdout)
    assert.ok(ps.every((c) => c.State === 'exited'), JSON.stringify(ps))

    const only = run(['up', '--attach', 'tests', '--no-log-prefix', '--abort-on-container-exit'])
    assert.equal(only.status, 5, only.stderr)
    assert.equal(only.stdout.split('\n')[0], 'Attaching to tests-1')
    assert.equal(only.stdout.split('\n')[1], 'testing')
    assert.doesNotMatch(only.stdout, /serving/)
    assert.match(run(['up', '-d', '--exit-code-from', 'tests']).stderr, /^error: --abort-on-container-exit, --abort-on-container-failure and --exit-code-from need the attached mode: drop -d/)
    assert.match(run(['up', '--exit-code-from', 'nope']).stderr, /^error: no such service: nope/)
    assert.match(run(['up', '--pull', 'sometimes']).stderr, /^error: invalid --pull "sometimes"/)
  })

  it('stops gracefully on Ctrl-C, and kills on a second', async () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  polite:
    image: busybox
    command: ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
  stubborn:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 30s
`,
    })
    const up = start()
    await up.until(/polite-1\s+\| ready/)
    const began = Date.now()
    up.child.kill('SIGINT')
    await up.until(/Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)/)
    await up.until(/polite-1 exited with code 0/)
    // stubborn ignores SIGTERM (PID 1 without a handler) and has 30 s: the second Ctrl-C kills it.
    up.child.kill('SIGINT')
    assert.equal(await up.exited, 130)
    assert.ok(Date.now() - began < 15_000, 'the second Ctrl-C did not wait for the grace period')
    assert.match(up.out.stdout, /polite-1\s+\| got TERM/)
    const ps = psJson(run(['ps', '-a', '--format', 'json']).stdout)
    assert.deepEqual(ps.map((c) => [c.Service, shortStatus(c).split(' ')[0]]), [['polite', 'Exited'], ['stubborn', 'Exited']])
  })

  it('cancels what has not started on Ctrl-C during up -d', async () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  slow:
    image: busybox
    command: ["sleep", "600"]
    healthcheck: {test: [CMD, "false"], interval: 1s, retries: 30}
  after:
    image: busybox
    command: ["sleep", "600"]
    depends_on:
      slow: {condition: service_healthy}
`,
    })
    const child = spawn(process.execPath, [pierBin, 'up', '-d', '--progress', 'plain'], { cwd: work.dir, env: project.env() })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c))
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    while (!/slow-1\s+Started/.test(stderr)) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGINT')
    assert.equal(await exited, 130)
    assert.match(stderr, /Canceling\.\.\./)
    assert.match(stderr, /after-1\s+Canceled|after-1\s+Skipped/)
    // after is created once slow is (as Compose creates), and never started.
    assert.equal(run(['ps', '-q', 'after']).stdout, '')
    assert.ok(psJson(run(['ps', '-a', '--format', 'json', 'after']).stdout).every((c) => c.State === 'created'))
  })
})

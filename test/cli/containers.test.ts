import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { until } from '../support/containers.js'
import { EngineProject } from '../support/engine-project.js'
import { pierBin, psJson, shortStatus, type TempProject } from '../support/helpers.js'

describe('pier logs, exec and the container commands', function () {
  this.timeout(60_000)
  let project: EngineProject
  let work: TempProject
  const name = `pier-ctr-${process.pid}`
  const run = (args: string[], input?: string) => project.run(args, input)
  const states = () => (psJson(run(['ps', '-a', '--format', 'json']).stdout)).map((c) => `${c.Service}:${shortStatus(c).split(' ')[0]}`)

  beforeEach(async () => {
    project = await EngineProject.create({
      'compose.yaml': `name: ${name}
services:
  a:
    image: busybox
    init: true
    command: ["sh", "-c", "echo first from a; sleep 0.4; echo third from a; exec sleep 600"]
  b:
    image: busybox
    init: true
    environment: {GREETING: hello}
    command: ["sh", "-c", "sleep 0.2; echo second from b >&2; exec sleep 600"]
`,
    })
    work = project.work
    assert.equal(run(['up', '-d', '--progress', 'quiet']).status, 0)
    await new Promise((r) => setTimeout(r, 700))
  })
  afterEach(() => project.dispose(['down', '-t', '0']))

  it('logs: every container merged in time order, prefixed and aligned; --tail, -t, --no-log-prefix, --since, services', () => {
    const logs = run(['logs'])
    assert.equal(logs.status, 0, logs.stderr)
    // Compose's prefix: the container name without the project (web-1).
    assert.equal(logs.stdout, `a-1 | first from a\nb-1 | second from b\na-1 | third from a\n`)
    assert.equal(run(['logs', '--tail', '1', '--no-log-prefix', 'a']).stdout, 'third from a\n')
    assert.match(run(['logs', '-t', 'b']).stdout, new RegExp(`^b-1 \\| \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z second from b\\n$`))
    assert.equal(run(['logs', '--since', '1h', '--no-log-prefix', 'b']).stdout, 'second from b\n')
    assert.equal(run(['logs', '--since', '2099-01-01T00:00:00Z']).stdout, '')
    assert.match(run(['logs', '--tail', 'many']).stderr, /^error: invalid --tail "many"/)
    assert.match(run(['logs', 'nope']).stderr, /^error: no such service: "nope"; the services are: a, b/)
  })

  it('a closed pipe ends pier quietly (pier … | head), with no stack trace', () => {
    const r = spawnSync('sh', ['-c', `${process.execPath} ${pierBin} exec -T a seq 1 200000 | head -n 1; echo "pipe=\${PIPESTATUS:-done}"`], { cwd: work.dir, env: project.env(), encoding: 'utf8' })
    assert.equal(r.stdout.split('\n')[0], '1')
    assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /, r.stderr)
  })

  it('exec: the exit code is pier\'s; -e, -u, -w; flags after the service belong to the command; stdin passes through', () => {
    const r = run(['exec', 'a', 'sh', '-c', 'echo "$GREETING $(id -u) $(pwd)"; exit 7', '-x'])
    assert.equal(r.status, 7)
    assert.equal(r.stdout, ' 0 /\n')
    assert.equal(run(['exec', '-e', 'GREETING=hi', '-u', 'nobody', '-w', '/tmp', 'b', 'sh', '-c', 'echo "$GREETING $(id -un) $(pwd)"']).stdout, 'hi nobody /tmp\n')
    assert.equal(run(['exec', '-T', 'a', 'cat'], 'piped in\n').stdout, 'piped in\n')
    const missing = run(['exec', 'a', 'no-such-command'])
    assert.notEqual(missing.status, 0)
    assert.match(missing.stderr, /no-such-command/)
    assert.match(run(['exec', '--index', '2', 'a', 'true']).stderr, /^error: service "a" is not running with index 2/)
  })

  it('run: a one-off with the service\'s config, its output and exit code; --rm, -e, -d, --name, -p', async () => {
    const r = run(['run', '--rm', '-e', 'EXTRA=more', 'b', 'sh', '-c', 'echo "$GREETING $EXTRA"; exit 3'])
    assert.equal(r.status, 3, r.stderr)
    assert.equal(r.stdout, 'hello more\n')
    assert.deepEqual(states(), ['a:Running', 'b:Running'], 'the --rm one-off is gone')
    work.write({ 'extra.env': 'EXTRA=from-file\nOTHER="two words"\n' })
    const fromFile = run(['run', '--rm', '-T', '--env-from-file', 'extra.env', '-e', 'OTHER=flag', 'b', 'sh', '-c', 'echo "$EXTRA $OTHER"'])
    assert.equal(fromFile.stdout, 'from-file flag\n', fromFile.stderr)
    assert.match(run(['run', '--rm', '--env-from-file', 'missing.env', 'b', 'true']).stderr, /^error: --env-from-file missing.env: no such file/)
    // The command's own -p, -f are its own (run -p is --publish only before the service).
    assert.equal(run(['run', '--rm', '-T', 'b', 'sh', '-c', 'echo "$@"', 'sh', '-p', '-f']).stdout, '-p -f\n')
    const piped = run(['run', '--rm', '-T', 'b', 'sh', '-c', 'tr a-z A-Z'], 'stdin goes in\n')
    assert.equal(piped.stdout, 'STDIN GOES IN\n')
    const d = run(['run', '-d', '--name', `${name}-once`, '-p', '127.0.0.1::80', 'b', 'sh', '-c', 'mkdir -p /w && echo one-off > /w/index.html && exec httpd -f -p 80 -h /w'])
    assert.equal(d.stdout, `${name}-once\n`)
    const ps = psJson(run(['ps', '--format', 'json']).stdout)
    const port = /127\.0\.0\.1:(\d+)->80\/tcp/.exec(ps.find((c) => c.Name === `${name}-once`)!.Ports)![1]
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'one-off\n')
    assert.match(run(['run', 'nope']).stderr, /^error: no such service: "nope"; the services are: a, b|^error: no such service: nope/)
    // A plain down leaves the running one-off (and the network it is on), as Compose does; --remove-orphans takes it.
    const down = run(['down', '-t', '0'])
    assert.equal(down.status, 0, down.stderr)
    assert.deepEqual(states(), ['b:Running'])
    assert.match(down.stderr, new RegExp(`Network ${name}_default: Resource is still in use by ${name}-once, so it is kept`))
    assert.equal(run(['down', '-t', '0', '--remove-orphans']).status, 0)
    assert.deepEqual(states(), [])
  })

  it('events: the project\'s container events as they happen, as JSON lines', async () => {
    assert.match(run(['events', '--format', 'yaml']).stderr, /^error: unknown format "yaml": use text or json/)
    const child = spawn(process.execPath, [pierBin, 'events', '--format', 'json'], { cwd: work.dir, env: project.env() })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c))
    await new Promise((r) => setTimeout(r, 800))
    const events = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { service: string; action: string; attributes: Record<string, string> })
    // The embedded engine's events come from polling its state (every 250 ms): each change is held
    // until its event is out, as a pause shorter than a poll (a pier process now takes less) may pass unseen.
    const heard = (action: string) => until(action, async () => events().some((e) => `${e.service}:${e.action}` === action))
    try {
      assert.equal(run(['stop', '-t', '1', 'b']).status, 0)
      await heard('b:die')
      assert.equal(run(['pause', 'a']).status, 0)
      await heard('a:pause')
      assert.equal(run(['unpause', 'a']).status, 0)
      await heard('a:unpause')
      assert.equal(run(['start', 'b']).status, 0)
      await heard('b:start')
    } finally {
      child.kill()
    }
    const seen = events()
    const actions = seen.map((e) => `${e.service}:${e.action}`)
    for (const expected of ['b:die', 'a:pause', 'a:unpause', 'b:start']) assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`)
    assert.ok(actions.indexOf('b:die') < actions.indexOf('b:start'))
    assert.equal(seen.find((e) => e.action === 'die')!.attributes.name, `${name}-b-1`)
  })

  it('cp: files and directories between a service and this machine, both ways', () => {
    work.write({ 'in/hello.txt': 'from the host\n', 'in/sub/deep.txt': 'deep\n' })
    assert.equal(run(['cp', 'in/hello.txt', 'a:/tmp/renamed.txt']).status, 0)
    assert.equal(run(['cp', 'in', 'a:/tmp']).status, 0)
    assert.equal(run(['exec', '-T', 'a', 'sh', '-c', 'cat /tmp/renamed.txt /tmp/in/sub/deep.txt']).stdout, 'from the host\ndeep\n')
    assert.equal(run(['cp', 'a:/tmp/in', 'back']).status, 0)
    assert.equal(readFileSync(work.path('back/sub/deep.txt'), 'utf8'), 'deep\n')
    assert.equal(run(['cp', 'a:/etc/passwd', '.']).status, 0)
    assert.match(readFileSync(work.path('passwd'), 'utf8'), /^root:x:0:0/)
    assert.match(run(['cp', 'a:/nope', 'x']).stderr, /^error: no such file or directory in the container: \/nope/)
    assert.match(run(['cp', 'in', 'also-local']).stderr, /^error: cp copies between a service and this machine/)
  })

  it('stop, start, restart, pause, unpause, kill, top, wait, rm and ls act on the named services', () => {
    assert.equal(run(['pause', 'a']).status, 0)
    assert.deepEqual(states(), ['a:Paused', 'b:Running'])
    assert.equal(run(['unpause', 'a']).status, 0)
    assert.match(run(['top', 'b']).stdout, /^pier-ctr-\d+-b-1\nUID\s+PID\s+PPID\s+CMD\n[\s\S]*sleep 600/)
    assert.equal(run(['stop', '-t', '1', 'b']).status, 0)
    assert.deepEqual(states(), ['a:Running', 'b:Exited'])
    assert.match(run(['top', 'b']).stderr, /^error: no running container for b in project pier-ctr-\d+: start it with "pier up -d"/)
    assert.equal(run(['start', 'b']).status, 0)
    assert.deepEqual(states(), ['a:Running', 'b:Running'])
    assert.equal(run(['restart', '-t', '1']).status, 0)
    assert.deepEqual(states(), ['a:Running', 'b:Running'])
    const ls = JSON.parse(run(['ls', '--format', 'json']).stdout) as { Name: string; Status: string; ConfigFiles: string }[]
    assert.deepEqual(ls.find((p) => p.Name === name), { Name: name, Status: 'running(2)', ConfigFiles: work.path('compose.yaml') })
    assert.equal(run(['kill', '-s', 'SIGTERM', 'a']).status, 0)
    const wait = run(['wait', 'a'])
    assert.equal(wait.stdout, `${name}-a-1 exited with code 143\n`)
    assert.equal(wait.status, 143)
    assert.match(run(['rm', 'a']).stderr, /^error: rm would remove pier-ctr-\d+-a-1: add -f to confirm/)
    assert.equal(run(['rm', '-f', 'a']).status, 0)
    assert.equal(run(['rm', '-sf']).status, 0)
    assert.deepEqual(states(), [])
    assert.match(run(['kill']).stderr, /^error: no running container in project/)
  })
})

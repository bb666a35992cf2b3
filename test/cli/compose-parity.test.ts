import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EngineProject } from '../support/engine-project.js'
import { pier, psJson, shortStatus, type TempProject } from '../support/helpers.js'

/**
 * What `docker compose` v5 does with the same commands, on real containers:
 * attached up (who decides the exit code, one-shots before dependents, one
 * exit line per run), down SERVICE and one-offs, COMPOSE_REMOVE_ORPHANS,
 * cp into replicas, run -i, volumes_from with --no-deps, progress words.
 */
describe('pier behaves as Docker Compose v5 does', function () {
  this.timeout(90_000)
  let project: EngineProject
  let work: TempProject
  const name = `pier-par-${process.pid}`
  const run = (args: string[], input?: string) => project.run(args, input)
  const states = () => psJson(run(['ps', '-a', '--format', 'json']).stdout).map((c) => `${c.Name.replace(`${name}-`, '')}:${shortStatus(c).split(' ')[0]}`)

  beforeEach(async () => {
    project = await EngineProject.create({})
    work = project.work
  })
  afterEach(() => project.dispose(['down', '-t', '0', '-v']))

  it('--abort-on-container-exit: the container that exits first decides the code, every time, even while up still waits for a dependency', () => {
    // "early" exits first but is listed after "late"; "main" waits on a one-shot that takes 2 s, so
    // up is still running its plan when both have exited: the abort stops it, and the code is early's.
    work.write({
      'compose.yaml': `name: ${name}
services:
  late: {image: busybox, command: ["sh", "-c", "sleep 0.6; exit 3"]}
  early: {image: busybox, command: ["sh", "-c", "sleep 0.1; exit 5"]}
  setup: {image: busybox, command: ["sh", "-c", "sleep 2"]}
  main:
    image: busybox
    command: ["sh", "-c", "echo main ran"]
    depends_on: {setup: {condition: service_completed_successfully}}
`,
    })
    for (let i = 0; i < 3; i++) {
      const up = run(['up', '--abort-on-container-exit', '-t', '1'])
      assert.equal(up.status, 5, `run ${i}: ${up.stderr}\n${up.stdout}`)
      assert.match(up.stderr, /Aborting on container exit/)
      assert.doesNotMatch(up.stdout, /main ran/, 'nothing starts after the abort')
      assert.doesNotMatch(up.stderr, /^error/m, 'the abort is not reported as a failed up')
    }
    // --exit-code-from: that service's code, though early's exit began the abort (late, PID 1 without a
    // TERM handler, finishes its sleep within the 5 s grace period).
    const exitFrom = run(['up', '--exit-code-from', 'late', '-t', '5'])
    assert.equal(exitFrom.status, 3, exitFrom.stderr)
  })

  it("attached up prints a one-shot's output before its dependent's, and one exit line per run of a restarting container", () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  app:
    image: busybox
    command: ["sh", "-c", "echo app starts"]
    depends_on: {zinit: {condition: service_completed_successfully}}
  zinit: {image: busybox, command: ["sh", "-c", "echo init one; sleep 0.3; echo init two"]}
  flaky:
    image: busybox
    command: ["sh", "-c", "echo try; exit 3"]
    restart: on-failure:2
`,
    })
    const up = run(['up'])
    assert.equal(up.status, 0, up.stderr)
    const lines = up.stdout.split('\n')
    assert.equal(lines[0], 'Attaching to app-1, flaky-1, zinit-1')
    const at = (line: string) => {
      const i = lines.findIndex((l) => l === line)
      assert.ok(i >= 0, `no line "${line}" in:\n${up.stdout}`)
      return i
    }
    assert.ok(at('zinit-1 | init one') < at('zinit-1 | init two'))
    assert.ok(at('zinit-1 | init two') < at('zinit-1 exited with code 0'))
    assert.ok(at('zinit-1 exited with code 0') < at('app-1   | app starts'), up.stdout)
    // on-failure:2: three runs, each with its line; Compose v5 marks those that restart.
    assert.equal(lines.filter((l) => l === 'flaky-1 | try').length, 3, up.stdout)
    assert.deepEqual(
      lines.filter((l) => l.startsWith('flaky-1 exited')),
      ['flaky-1 exited with code 3 (restarting)', 'flaky-1 exited with code 3 (restarting)', 'flaky-1 exited with code 3'],
    )
  })

  it('down SERVICE removes that service and what depends on it; a plain down leaves a running one-off and its network, --remove-orphans takes them', () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  db: {image: busybox, init: true, command: [sleep, "600"]}
  web: {image: busybox, init: true, command: [sleep, "600"], depends_on: [db]}
  cache: {image: busybox, init: true, command: [sleep, "600"]}
`,
    })
    assert.equal(run(['up', '-d']).status, 0)
    const partial = run(['down', '-t', '0', 'db'])
    assert.equal(partial.status, 0, partial.stderr)
    assert.deepEqual(states(), ['cache-1:Running'])
    // The default network is still cache's: kept, and said so.
    assert.match(partial.stderr, new RegExp(`Network ${name}_default: Resource is still in use by ${name}-cache-1, so it is kept`))
    assert.match(run(['down', 'nope']).stderr, /^error: no such service: nope/)

    // run -i is the default: a detached cat keeps running on its open stdin.
    const oneOff = run(['run', '-d', '--no-deps', 'web', 'cat'])
    assert.equal(oneOff.status, 0, oneOff.stderr)
    const oneOffName = oneOff.stdout.trim()
    const exited = run(['run', '--no-deps', 'web', 'true'])
    assert.equal(exited.status, 0, exited.stderr)
    const down = run(['down', '-t', '0'])
    assert.equal(down.status, 0, down.stderr)
    assert.deepEqual(states().map((s) => s.replace(/run-[0-9a-f]+/, 'run')).sort(), ['web-run:Exited', 'web-run:Running'])
    assert.ok(states().some((s) => s === `${oneOffName.replace(`${name}-`, '')}:Running`), 'the detached cat still runs')
    assert.match(down.stderr, new RegExp(`Network ${name}_default: Resource is still in use by .*${oneOffName}.*, so it is kept \\(one-offs go with "down --remove-orphans"\\)`))
    assert.match(down.stderr, /Found orphan containers \(.*web-run-[0-9a-f]+.*\) for this project\. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up\./)

    // COMPOSE_REMOVE_ORPHANS from the project's .env is --remove-orphans.
    work.write({ '.env': 'COMPOSE_REMOVE_ORPHANS=true\n' })
    const all = run(['down', '-t', '0'])
    assert.equal(all.status, 0, all.stderr)
    assert.deepEqual(states(), [])
    assert.doesNotMatch(all.stderr, /still in use|orphan/)
  })

  it('up warns about an exited one-off in Compose words and removes it with COMPOSE_REMOVE_ORPHANS; down SERVICE --remove-orphans', () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  web: {image: busybox, init: true, command: [sleep, "600"]}
  other: {image: busybox, init: true, command: [sleep, "600"]}
`,
    })
    assert.equal(run(['run', '--no-deps', 'web', 'true']).status, 0)
    const warned = run(['up', '-d'])
    assert.equal(warned.status, 0, warned.stderr)
    assert.match(warned.stderr, new RegExp(`warning: Found orphan containers \\(${name}-web-run-[0-9a-f]+\\) for this project\\. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up\\.`))
    work.write({ '.env': 'COMPOSE_REMOVE_ORPHANS=1\n' })
    const cleaned = run(['up', '-d'])
    assert.equal(cleaned.status, 0, cleaned.stderr)
    assert.doesNotMatch(cleaned.stderr, /orphan/)
    assert.deepEqual(states(), ['other-1:Running', 'web-1:Running'])

    // down SERVICE --remove-orphans: that service's one-offs too, others' left.
    work.write({ '.env': '' })
    assert.equal(run(['run', '-d', 'web', 'cat']).status, 0)
    assert.equal(run(['run', '-d', 'other', 'cat']).status, 0)
    assert.equal(run(['down', '-t', '0', '--remove-orphans', 'web']).status, 0)
    assert.deepEqual(states().map((s) => s.replace(/run-[0-9a-f]+/, 'run')).sort(), ['other-1:Running', 'other-run:Running'])
  })

  it('cp into a service copies into every replica (--index picks one), out of it reads replica 1', () => {
    work.write({
      'compose.yaml': `name: ${name}\nservices:\n  web: {image: busybox, init: true, command: [sleep, "600"], scale: 2}\n`,
      'note.txt': 'for all\n',
      'one.txt': 'for two\n',
    })
    assert.equal(run(['up', '-d']).status, 0)
    assert.equal(run(['cp', 'note.txt', 'web:/tmp/note.txt']).status, 0)
    assert.equal(run(['exec', '--index', '1', 'web', 'cat', '/tmp/note.txt']).stdout, 'for all\n')
    assert.equal(run(['exec', '--index', '2', 'web', 'cat', '/tmp/note.txt']).stdout, 'for all\n')
    assert.equal(run(['cp', '--index', '2', 'one.txt', 'web:/tmp/one.txt']).status, 0)
    assert.notEqual(run(['exec', '--index', '1', 'web', 'cat', '/tmp/one.txt']).status, 0)
    assert.equal(run(['exec', '--index', '2', 'web', 'cat', '/tmp/one.txt']).stdout, 'for two\n')
    assert.equal(run(['exec', '--index', '1', 'web', 'sh', '-c', 'echo from one > /tmp/out.txt']).status, 0)
    assert.equal(run(['exec', '--index', '2', 'web', 'sh', '-c', 'echo from two > /tmp/out.txt']).status, 0)
    assert.equal(run(['cp', 'web:/tmp/out.txt', 'out.txt']).status, 0)
    assert.equal(readFileSync(work.path('out.txt'), 'utf8'), 'from one\n')
    assert.match(run(['cp', '--index', '3', 'note.txt', 'web:/tmp/']).stderr, /^error: no container found for service "web" with index 3/)
  })

  it('up --no-deps refuses a service whose volumes_from donor has no container, before creating anything', () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  data: {image: busybox, init: true, command: [sleep, "600"], volumes: [/shared]}
  reader: {image: busybox, init: true, command: [sleep, "600"], volumes_from: [data]}
`,
    })
    const refused = run(['up', '-d', '--no-deps', 'reader'])
    assert.equal(refused.status, 1)
    assert.equal(refused.stderr, 'error: cannot share volume with service data: container missing (create it with "pier up -d data")\n')
    assert.deepEqual(states(), [])
    assert.equal(run(['up', '-d']).status, 0)
    assert.equal(run(['rm', '-s', '-f', 'data']).status, 0)
    assert.match(run(['up', '-d', '--no-deps', '--force-recreate', 'reader']).stderr, /cannot share volume with service data: container missing/)
  })

  it('start and restart report in Compose progress words', () => {
    work.write({ 'compose.yaml': `name: ${name}\nservices:\n  web: {image: busybox, init: true, command: [sleep, "600"]}\n` })
    assert.equal(run(['up', '-d']).status, 0)
    const restart = run(['restart', '-t', '0', '--progress', 'plain'])
    assert.equal(restart.status, 0, restart.stderr)
    assert.match(restart.stderr, new RegExp(`Container ${name}-web-1\\s+Restarting\\nContainer ${name}-web-1\\s+Started\\n`))
    assert.equal(run(['stop', '-t', '0']).status, 0)
    const start = run(['start', '--progress', 'plain'])
    assert.match(start.stderr, new RegExp(`Container ${name}-web-1\\s+Starting\\nContainer ${name}-web-1\\s+Started\\n`))
  })

  it("log prefixes: a container_name and a one-off's name are shown whole, a replica as service-N", () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  web: {image: busybox, init: true, command: ["sh", "-c", "echo from web; exec sleep 600"], scale: 2}
  named: {image: busybox, container_name: ${name}-custom, command: ["sh", "-c", "echo from named"]}
`,
    })
    assert.equal(run(['up', '-d', '--wait']).status, 0)
    // Detached, so its output is in its log (an attached run's goes to pier's own stdout).
    const oneOff = run(['run', '-d', '--no-deps', '--name', `${name}-adhoc`, 'named', 'echo', 'from run'])
    assert.equal(oneOff.status, 0, oneOff.stderr)
    assert.equal(run(['wait', 'named']).status, 0)
    const logs = run(['logs', 'web', 'named']).stdout.split('\n').filter(Boolean).sort()
    const w = `${name}-custom`.length
    assert.deepEqual(logs, [`${name}-adhoc`.padEnd(w) + ' | from run', `${name}-custom | from named`, 'web-1'.padEnd(w) + ' | from web', 'web-2'.padEnd(w) + ' | from web'].sort())
  })

  it('up SERVICE attaches to that service only (--attach-dependencies adds what it needs), and only its exit aborts', () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  db: {image: busybox, command: ["sh", "-c", "echo db says; sleep 0.2"]}
  web: {image: busybox, command: ["sh", "-c", "sleep 1; echo web done; exit 7"], depends_on: [db]}
`,
    })
    const up = run(['up', '--abort-on-container-exit', 'web'])
    assert.equal(up.status, 7, up.stderr)
    assert.match(up.stdout, /^Attaching to web-1\n/)
    assert.doesNotMatch(up.stdout, /db says|db-1/)
    const withDeps = run(['up', '--attach-dependencies', '--abort-on-container-exit', 'web'])
    assert.equal(withDeps.status, 7, withDeps.stderr)
    assert.match(withDeps.stdout, /^Attaching to db-1, web-1\n/)
    assert.match(withDeps.stdout, /db-1 {2}\| db says/)
    assert.match(run(['up', '--attach', 'db', '--attach-dependencies', 'web']).stderr, /^error: cannot combine --attach and --attach-dependencies/)
  })

  it('attach: false keeps a service out of attached up and of logs, until --attach or logs names it', () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  noisy: {image: busybox, attach: false, command: ["sh", "-c", "echo noisy talks; sleep 0.5"]}
  app: {image: busybox, command: ["sh", "-c", "echo app ran; sleep 1"]}
`,
    })
    const up = run(['up'])
    assert.equal(up.status, 0, up.stderr)
    assert.match(up.stdout, /^Attaching to app-1\n/)
    assert.doesNotMatch(up.stdout, /noisy/)
    assert.doesNotMatch(run(['logs']).stdout, /noisy/)
    assert.match(run(['logs', 'noisy']).stdout, /noisy-1 +\| noisy talks/)
    const attached = run(['up', '--attach', 'noisy'])
    assert.equal(attached.status, 0, attached.stderr)
    assert.match(attached.stdout, /^Attaching to noisy-1\n/)
  })

  it('-p NAME ps and down act on a project by its name where no compose file is, as Compose does', () => {
    work.write({
      'compose.yaml': `name: ${name}
services:
  web: {image: busybox, command: ["sleep", "60"], init: true, networks: [front]}
  db: {image: busybox, command: ["sleep", "60"], init: true, volumes: ["data:/data"]}
networks: {front: {}}
volumes: {data: {}}
`,
    })
    assert.equal(run(['up', '-d']).status, 0)
    const elsewhere = mkdtempSync(join(tmpdir(), 'pier-noproject-'))
    try {
      const byName = (args: string[], env: Record<string, string> = {}) => pier(args, { cwd: elsewhere, env: { PIER_ROOT: project.root, ...env } })
      assert.match(byName(['ps']).stderr, /^error: no compose file found/)
      assert.deepEqual(psJson(byName(['-p', name, 'ps', '--format', 'json']).stdout).map((c) => c.Service).sort(), ['db', 'web'])
      assert.match(byName(['ps', '--services'], { COMPOSE_PROJECT_NAME: name }).stdout, /^(db\nweb|web\ndb)\n$/)
      const down = byName(['-p', name, 'down', '-v'])
      assert.equal(down.status, 0, down.stderr)
      assert.deepEqual(states(), [])
      assert.match(down.stderr, new RegExp(`Network ${name}_front\\s+Removed`))
      assert.match(down.stderr, new RegExp(`Volume ${name}_data\\s+Removed`))
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })
})

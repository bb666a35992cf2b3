import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pier, psJson, repoRoot, shortStatus } from '../support/helpers.js'

/** The README's Quick start, on the demo project: built from busybox-static, up, answering, down. */
describe('the demo project', function () {
  this.timeout(90_000)
  let root: string
  let port: number
  const demo = join(repoRoot, 'fixtures', 'demo', 'compose.yaml')
  const run = (args: string[]) => pier(['-f', demo, ...args], { env: { PIER_ROOT: root, DEMO_PORT: String(port) } })

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'pier-root-'))
    // A free port, so the test never collides with a demo someone runs by hand.
    const probe = createServer().listen(0, '127.0.0.1')
    await new Promise((r) => probe.once('listening', r))
    port = (probe.address() as { port: number }).port
    await new Promise((r) => probe.close(r))
  })
  afterEach(() => {
    try {
      run(['down', '-v', '-t', '0'])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('builds its image, comes up healthy, serves the page the init service wrote, and goes away', async () => {
    const up = run(['up', '-d', '--wait'])
    assert.equal(up.status, 0, up.stderr)
    assert.match(up.stderr, /Building init\n[\s\S]*Service init {2}Built\n/)
    assert.doesNotMatch(up.stderr, /Building (web|worker)/, 'one build for the image the three services share')
    const page = await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) })).text()
    assert.match(page, /^<h1>Hello from pier<\/h1><p>written at .+<\/p>\n$/)
    const ps = psJson(run(['ps', '-a', '--format', 'json']).stdout)
    assert.deepEqual(ps.map((c) => [c.Service, shortStatus(c)]), [['init', 'Exited (0)'], ['web', 'Running (healthy)'], ['worker', 'Running']])

    // Again: the image exists (no build), web and worker are kept, and the
    // exited one-shot init is started once more, as Compose does.
    const again = run(['up', '-d', '--progress', 'plain'])
    assert.equal(again.status, 0, again.stderr)
    assert.doesNotMatch(again.stderr, /Building|web|worker/)
    assert.match(again.stderr, /Container pier-demo-init-1\s+Started\n$/)

    const down = run(['down', '-v'])
    assert.equal(down.status, 0, down.stderr)
    assert.deepEqual(readdirSync(join(root, 'containers')), [])
    assert.deepEqual(readdirSync(join(root, 'volumes')), [])
  })
})

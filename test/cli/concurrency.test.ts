import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { busyboxImage, dockerArchive, ociArchive } from '../support/images.js'
import { pier, pierBin, TempProject } from '../support/helpers.js'

function run(args: string[], cwd: string, env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [pierBin, ...args], { cwd, env: { ...process.env, PIER_NO_CACHE: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c))
    child.on('exit', (status) => resolve({ status, stderr }))
  })
}

describe('several pier processes on one engine root', function () {
  this.timeout(60_000)
  let work: TempProject
  let root: string
  beforeEach(() => {
    work = new TempProject({})
    root = mkdtempSync(join(tmpdir(), 'pier-root-'))
  })
  afterEach(() => {
    work.cleanup()
    rmSync(root, { recursive: true, force: true })
  })

  it('load images sharing a layer at the same moment, and the store stays whole', async () => {
    const count = 6
    for (let i = 0; i < count; i++) {
      const img = await busyboxImage([`shared:${i}`], { Cmd: ['echo', String(i)] })
      writeFileSync(work.path(`img${i}.tar`), i % 2 ? await ociArchive(img) : await dockerArchive([img]))
    }
    const results = await Promise.all(Array.from({ length: count }, (_, i) => run(['--progress', 'quiet', 'image', 'load', '-i', `img${i}.tar`], work.dir, { PIER_ROOT: root })))
    for (const r of results) assert.equal(r.status, 0, r.stderr)
    const images = JSON.parse(pier(['images', '--format', 'json'], { cwd: work.dir, env: { PIER_ROOT: root } }).stdout) as { tags: string[] }[]
    assert.deepEqual(images.flatMap((i) => i.tags).sort(), Array.from({ length: count }, (_, i) => `docker.io/library/shared:${i}`))
    assert.equal(readdirSync(join(root, 'images/layers')).length, 1, 'the shared layer is unpacked once')
    assert.deepEqual(readdirSync(join(root, 'tmp')), [])
  })

  it('up while down -v runs: the next up converges and the next down leaves nothing', async function () {
    this.timeout(120_000)
    writeFileSync(work.path('busybox.tar'), await dockerArchive([await busyboxImage()]))
    const env = { PIER_ROOT: root }
    assert.equal(pier(['image', 'load', '-i', 'busybox.tar'], { cwd: work.dir, env }).status, 0)
    work.write({
      'compose.yaml': `name: pier-race-${process.pid}
x-s: &s {image: busybox, init: true, stop_grace_period: 1s}
services:
  db: {<<: *s, command: [sleep, "600"], volumes: [data:/data]}
  web: {<<: *s, command: [sh, -c, "mkdir -p /w; exec httpd -f -p 80 -h /w"], ports: ["127.0.0.1::80"], depends_on: [db]}
  worker: {<<: *s, command: [sleep, "600"], depends_on: [web]}
volumes: {data: {}}
`,
    })
    // pier's network objects on the host (the suite runs one test at a time): what the rounds leave must be what was there.
    const hostState = () => [...readdirSync('/sys/class/net').filter((l) => l.startsWith('pier-') || l.startsWith('pv')), ...(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('pier-')) : [])].sort()
    const before = hostState()
    for (let round = 0; round < 6; round++) {
      assert.equal(pier(['up', '-d', '--progress', 'quiet'], { cwd: work.dir, env }).status, 0)
      // The two race; either may fail (a container removed under it), neither may wedge the project.
      await Promise.all([run(['--progress', 'quiet', 'down', '-v', '-t', '1'], work.dir, env), run(['--progress', 'quiet', 'up', '-d'], work.dir, env)])
      const up = pier(['up', '-d', '--wait', '--progress', 'quiet'], { cwd: work.dir, env })
      assert.equal(up.status, 0, `round ${round}: the next up converges: ${up.stderr}`)
      const down = pier(['down', '-v', '-t', '1', '--progress', 'quiet'], { cwd: work.dir, env })
      assert.equal(down.status, 0, `round ${round}: ${down.stderr}`)
      assert.deepEqual(readdirSync(join(root, 'containers')), [], `round ${round}: no container left`)
      assert.deepEqual(hostState(), before, `round ${round}: no bridge, veth or netns left`)
    }
  })
})

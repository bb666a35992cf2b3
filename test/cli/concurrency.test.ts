import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
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
})

import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load, loadFails } from '../support/helpers.js'

describe('the load cache', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pier-cache-'))
    process.env.PIER_CACHE_DIR = dir
    delete process.env.PIER_NO_CACHE
  })
  afterEach(() => {
    process.env.PIER_NO_CACHE = '1'
    delete process.env.PIER_CACHE_DIR
    rmSync(dir, { recursive: true, force: true })
  })

  const files = {
    'compose.yaml': 'x-base: &base\n  restart: always\nservices:\n  web:\n    <<: *base\n    image: "busybox:${TAG:-1}"\n    ports: !override ["80"]\n',
  }

  it('gives the same project from a cached parse and validation as from a fresh one', async () => {
    const first = await load(files)
    assert.equal(readdirSync(join(dir, 'parse')).length, 1)
    assert.equal(readdirSync(join(dir, 'schema')).length, 1)
    const second = await load(files)
    assert.deepEqual(second.project.services, first.project.services)
    const third = await load(files, { environment: { TAG: '2' } })
    assert.equal(third.project.services.web.image, 'busybox:2', 'interpolation happens after the cached parse')
    assert.equal(readdirSync(join(dir, 'parse')).length, 1, 'the same text is parsed once')
  })

  it('still reports positions from a cached parse', async () => {
    const bad = { 'compose.yaml': 'services:\n  web:\n    image: x\n    tty: 3\n' }
    await loadFails(bad, [/compose\.yaml:4:5: services\.web\.tty/])
    await loadFails(bad, [/compose\.yaml:4:5: services\.web\.tty/])
  })

  it('finds positions for a cached file whose first run needed none', async () => {
    const files = { 'compose.yaml': 'services:\n  web:\n    image: x\n    tty: ${TTY:-true}\n' }
    const stored = () => (existsSync(join(dir, 'positions')) ? readdirSync(join(dir, 'positions')).length : 0)
    await load(files)
    assert.equal(stored(), 0, 'a run without an error stores no positions')
    await loadFails(files, [/compose\.yaml:4:5: services\.web\.tty/], { environment: { TTY: '3' } })
    assert.equal(stored(), 1, 'once found, they are stored')
    await loadFails(files, [/compose\.yaml:4:5: services\.web\.tty/], { environment: { TTY: '3' } })
  })

  it('treats a damaged entry as a miss', async () => {
    await load(files)
    for (const name of readdirSync(join(dir, 'parse'))) writeFileSync(join(dir, 'parse', name), '{not json')
    const { project } = await load(files)
    assert.equal(project.services.web.restart, 'always')
  })
})

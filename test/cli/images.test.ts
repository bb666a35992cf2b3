import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { busyboxImage, dockerArchive, ociArchive } from '../support/images.js'
import { pier, TempProject } from '../support/helpers.js'
import { TestRegistry } from '../support/registry.js'

describe('pier image commands', function () {
  this.timeout(60_000)
  let work: TempProject
  let rootA: string
  let rootB: string
  const inA = (args: string[], extra: { input?: string } = {}) => pier(args, { cwd: work.dir, env: { PIER_ROOT: rootA }, ...extra })
  const inB = (args: string[]) => pier(args, { cwd: work.dir, env: { PIER_ROOT: rootB } })

  beforeEach(async () => {
    work = new TempProject({})
    rootA = mkdtempSync(join(tmpdir(), 'pier-root-'))
    rootB = mkdtempSync(join(tmpdir(), 'pier-root-'))
    writeFileSync(work.path('busybox.tar'), await dockerArchive([await busyboxImage(['busybox:latest'])]))
  })
  afterEach(() => {
    work.cleanup()
    rmSync(rootA, { recursive: true, force: true })
    rmSync(rootB, { recursive: true, force: true })
  })

  it('loads, lists, tags, inspects, saves and removes', () => {
    const loaded = inA(['image', 'load', '-i', 'busybox.tar'])
    assert.equal(loaded.status, 0, loaded.stderr)
    assert.equal(loaded.stdout, 'Loaded image: busybox:latest\n')

    const listed = inA(['images'])
    assert.match(listed.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[a-f0-9]{12}\s+2026-01-01T00:00:00Z\s+\d\.\dMB\n$/)

    assert.equal(inA(['image', 'tag', 'busybox', 'mine:1']).status, 0)
    const inspected = JSON.parse(inA(['image', 'inspect', 'mine:1']).stdout)
    assert.deepEqual(inspected[0].tags, ['docker.io/library/busybox:latest', 'docker.io/library/mine:1'])
    assert.deepEqual(inspected[0].config.cmd, ['sh'])
    assert.equal(JSON.parse(inA(['images', '--format', 'json']).stdout).length, 1)

    assert.equal(inA(['image', 'save', '-o', 'saved.tar', 'mine:1']).status, 0)
    assert.equal(inB(['image', 'load', '-i', 'saved.tar']).stdout, 'Loaded image: mine:1\n')

    assert.equal(inA(['image', 'rm', 'mine:1']).stdout, 'Untagged: mine:1\n')
    assert.match(inA(['image', 'rm', 'busybox']).stdout, /^Untagged: busybox:latest\nDeleted: sha256:[a-f0-9]{64}\n$/)
    assert.equal(inA(['images', '-q']).stdout, '')
  })

  it('loads from standard input', async () => {
    const archive = await ociArchive(await busyboxImage(['piped:1']))
    const result = pier(['image', 'load'], { cwd: work.dir, env: { PIER_ROOT: rootA }, input: archive })
    assert.deepEqual([result.status, result.stdout], [0, 'Loaded image: piped:1\n'])
    const empty = pier(['image', 'load'], { cwd: work.dir, env: { PIER_ROOT: rootA }, input: '' })
    assert.equal(empty.status, 1, 'an empty stdin is not an archive')
    assert.match(empty.stderr, /^error: cannot load the archive/)
  })

  it('gives one clear line and exit 1 for bad input, and writes nothing', () => {
    const missing = inA(['image', 'load', '-i', 'nope.tar'])
    assert.deepEqual([missing.status, missing.stderr], [1, 'error: cannot read nope.tar: no such file\n'])
    const unknown = inA(['image', 'rm', 'nope'])
    assert.equal(unknown.status, 1)
    assert.match(unknown.stderr, /^error: no such image: nope \(pull it with "pier pull nope" or load it with "pier image load"\)\n$/)
    const save = inA(['image', 'save', '-o', 'out.tar', 'nope'])
    assert.equal(save.status, 1)
    assert.equal(existsSync(work.path('out.tar')), false)
    const bad = inA(['image', 'inspect', 'Bad:Ref'])
    assert.match(bad.stderr, /^error: invalid image reference "Bad:Ref"/)
  })

  describe('with a registry', () => {
    const registry = new TestRegistry()
    before(async () => {
      await registry.start()
    })
    after(() => registry.stop())

    it('pushes and pulls image references, with plain progress on stderr', async () => {
      const name = `${registry.host}/cli/busybox:1`
      writeFileSync(work.path('oci.tar'), await ociArchive(await busyboxImage([name])))
      assert.equal(inA(['image', 'load', '-i', 'oci.tar']).status, 0)
      const pushed = inA(['push', name])
      assert.equal(pushed.status, 0, pushed.stderr)
      assert.match(pushed.stdout, /digest: sha256:[a-f0-9]{64}\n$/)
      const pulled = inB(['pull', name])
      assert.equal(pulled.status, 0, pulled.stderr)
      assert.match(pulled.stdout, new RegExp(`^${registry.host.replace(/\./g, '\\.')}/cli/busybox@sha256:[a-f0-9]{64}\\n$`))
      assert.match(pulled.stderr, /[a-f0-9]{12}: Download complete\n/)
      assert.match(pulled.stderr, /[a-f0-9]{12}: Pull complete\n/)
    })

    it("pulls the project's service images when run in a project", async () => {
      const name = `${registry.host}/cli/svc:2`
      writeFileSync(work.path('svc.tar'), await dockerArchive([await busyboxImage([name])]))
      assert.equal(inA(['image', 'load', '-i', 'svc.tar']).status, 0)
      assert.equal(inA(['push', name]).status, 0)
      work.write({ 'compose.yaml': `services:\n  app:\n    image: ${name}\n  built:\n    build: .\n` })
      const pulled = inB(['pull', '--quiet'])
      assert.equal(pulled.status, 0, pulled.stderr)
      assert.equal(JSON.parse(inB(['images', '--format', 'json']).stdout)[0].tags[0], name)
    })
  })
})

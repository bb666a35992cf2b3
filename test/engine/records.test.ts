import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RecordStore } from '../../src/engine/embedded/containers/records.js'
import { files, writeJson, type ContainerRecord } from '../../src/engine/embedded/containers/state.js'
import { Root } from '../../src/engine/embedded/root.js'
import { specFor } from '../support/containers.js'

const idOf = (n: number) => n.toString(16).padStart(64, 'a')

function record(id: string, name: string): ContainerRecord {
  return { id, name, image: 'sha256:x', layers: [], spec: specFor(name, ['true']), createdAt: new Date().toISOString(), anonymousVolumes: [] }
}

describe('embedded engine: the container records and their name index', () => {
  let dir: string
  let store: RecordStore
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pier-records-'))
    store = new RecordStore(new Root(dir))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('finds by name, id and id prefix; refuses a name in use; frees it at delete', async () => {
    await store.add('web', store.dir(idOf(1)), async () => record(idOf(1), 'web'))
    assert.equal((await store.find('web'))?.id, idOf(1))
    assert.equal((await store.find(idOf(1)))?.name, 'web')
    assert.equal((await store.find(idOf(1).slice(0, 6)))?.name, 'web')
    assert.equal(await store.find('db'), undefined)
    await assert.rejects(store.add('web', store.dir(idOf(2)), async () => record(idOf(2), 'web')), /already in use/)
    assert.ok(!existsSync(store.dir(idOf(2))), 'the refused create left nothing')
    await store.delete((await store.find('web'))!)
    assert.equal(await store.find('web'), undefined)
    await store.add('web', store.dir(idOf(3)), async () => record(idOf(3), 'web'))
    assert.equal((await store.find('web'))?.id, idOf(3))
  })

  it('a name whose record is gone (a crash) is free; a root made before the index gets one', async () => {
    // A root of an older pier: records, no names/.
    for (const [n, name] of [[4, 'old-a'], [5, 'old-b']] as const) {
      mkdirSync(store.dir(idOf(n)), { recursive: true })
      await writeJson(files(store.dir(idOf(n))).record, record(idOf(n), name))
    }
    assert.equal((await store.find('old-b'))?.id, idOf(5))
    // A name file pointing at a record that was never written.
    writeFileSync(join(dir, 'names', 'ghost'), idOf(6))
    assert.equal(await store.find('ghost'), undefined)
    await store.add('ghost', store.dir(idOf(7)), async () => record(idOf(7), 'ghost'))
    assert.equal((await store.find('ghost'))?.id, idOf(7))
    assert.deepEqual((await store.all()).map((r) => r.name).sort(), ['ghost', 'old-a', 'old-b'])
  })
})

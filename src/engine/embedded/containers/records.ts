import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { EngineError } from '../../errors.js'
import type { Root } from '../root.js'
import { Batcher } from '../../../network/batch.js'
import { runCommand } from '../../../network/commands.js'
import { unmountRootfs } from './rootfs.js'
import { files, readJson, writeJson, type ContainerRecord } from './state.js'

const ID = /^[0-9a-f]{64}$/

/**
 * The containers' records (containers/<id>/record.json, written once), with
 * an index by name: names/<name> holds the id. Finding a container by name
 * or id reads one or two small files, where it read every record.json (over
 * an `up` of N services, N² reads). The index is changed only under the
 * `containers` lock, and a name counts only while the record it points to
 * exists and bears it: a name file is written before its record and removed
 * after it, so a crash at any point leaves at worst a stale name (free again),
 * never a record that its name does not find.
 */
export class RecordStore {
  constructor(private readonly root: Root) {}

  dir(id: string): string {
    return this.root.path('containers', id)
  }

  private nameFile(name: string): string {
    // Container names are [a-zA-Z0-9][a-zA-Z0-9_.-]*; encoded all the same, so no name can leave the directory.
    return this.root.path('names', encodeURIComponent(name))
  }

  /**
   * Every container with a record. A directory without one is an interrupted
   * create (or a remove finishing): when there is one, it is cleared here,
   * under the lock, so `ps` and `down` never miss what a killed `up` left —
   * the lock is taken only then, so a listing costs no lock otherwise.
   */
  async all(options: { locked?: boolean } = {}): Promise<ContainerRecord[]> {
    const ids = await readdir(this.root.path('containers')).catch(() => [] as string[])
    const records = await Promise.all(ids.map((id) => readJson<ContainerRecord>(files(this.dir(id)).record)))
    if (records.some((r) => !r)) await (options.locked ? this.sweep() : this.root.withLock('containers', () => this.sweep()))
    return records.filter((r): r is ContainerRecord => !!r)
  }

  /** By exact name, full id, or an id prefix of 4 or more digits (as Docker accepts). */
  async find(idOrName: string): Promise<ContainerRecord | undefined> {
    if (ID.test(idOrName)) {
      const record = await this.byId(idOrName)
      if (record) return record
    }
    const named = await this.byName(idOrName)
    if (named) return named
    if (idOrName.length < 4 || !/^[0-9a-f]+$/.test(idOrName)) return undefined
    const ids = (await readdir(this.root.path('containers')).catch(() => [] as string[])).filter((id) => id.startsWith(idOrName)).sort()
    for (const id of ids) {
      const record = await this.byId(id)
      if (record) return record
    }
    return undefined
  }

  async require(idOrName: string): Promise<ContainerRecord> {
    const record = await this.find(idOrName)
    if (!record) throw new EngineError('not-found', `no such container: ${idOrName}`)
    return record
  }

  private byId(id: string): Promise<ContainerRecord | undefined> {
    return readJson<ContainerRecord>(files(this.dir(id)).record)
  }

  private async byName(name: string): Promise<ContainerRecord | undefined> {
    await this.ensureIndex()
    const id = readText(this.nameFile(name)).trim()
    if (!ID.test(id)) return undefined
    const record = await this.byId(id)
    return record?.name === name ? record : undefined
  }

  /**
   * Adds a container: `prepare` fills its fresh directory (state.json,
   * volumes) and returns the record, written last, then its name. Under the
   * lock, so two creates of one name cannot both succeed. Interrupted creates
   * are cleared here, where the lock is held anyway, not in every read.
   */
  async add(name: string, dir: string, prepare: () => Promise<ContainerRecord>): Promise<void> {
    await this.root.withLock('containers', async () => {
      await this.ensureIndex(true)
      const taken = await this.byName(name)
      if (taken) throw new EngineError('conflict', `the container name "${name}" is already in use by container ${taken.id.slice(0, 12)}: remove it or choose another name`)
      await this.sweep()
      mkdirSync(dir, { recursive: true })
      const record = await prepare().catch(async (err) => {
        await rm(dir, { recursive: true, force: true })
        throw err
      })
      await this.writeName(name, record.id)
      await writeJson(files(dir).record, record)
    })
  }

  /**
   * Records and names of containers removed side by side go under one hold
   * of the lock (network/batch.ts): a `down` of 30 took and released it 30
   * times, one after another.
   */
  private readonly deletions = new Batcher<ContainerRecord>((records) =>
    this.root.withLock('containers', async () => {
      for (const record of records) {
        rmSync(files(this.dir(record.id)).record, { force: true })
        const current = readText(this.nameFile(record.name)).trim()
        if (current === record.id) rmSync(this.nameFile(record.name), { force: true })
      }
    }),
  )

  /** Removes a container: its record, then its name (see the class comment), then the rest of its directory. */
  async delete(record: ContainerRecord): Promise<void> {
    await this.deletions.add([record])
    await removeTree(this.dir(record.id))
  }

  /** A name's file, replaced whole (a reader never sees half an id); synchronous, being written under the lock (see writeJson). */
  private async writeName(name: string, id: string): Promise<void> {
    mkdirSync(this.root.path('names'), { recursive: true })
    const temp = this.root.temp('name')
    writeFileSync(temp, id)
    renameSync(temp, this.nameFile(name))
  }

  /**
   * Builds the name index of a root made before it existed (or lost): once,
   * from the records. `locked` when the caller holds the lock already.
   */
  private async ensureIndex(locked = false): Promise<void> {
    const done = this.root.path('names', '.complete')
    if (existsSync(done)) return
    const build = async () => {
      if (existsSync(done)) return
      await mkdir(this.root.path('names'), { recursive: true })
      for (const record of await this.all({ locked: true })) await this.writeName(record.name, record.id)
      await writeFile(done, '')
    }
    await (locked ? build() : this.root.withLock('containers', build))
  }

  /**
   * Clears the directories without a record. Called holding the lock, so
   * none of them is a create in progress (a create holds the lock from its
   * mkdir to its record): each is an interrupted create, or a remove whose
   * record is gone and whose `rm` may be running too (both remove with
   * force, so either finishes it).
   */
  private async sweep(): Promise<void> {
    const ids = listDir(this.root.path('containers'))
    for (const id of ids) {
      const dir = this.dir(id)
      if (existsSync(files(dir).record)) continue
      await unmountRootfs(files(dir).rootfs).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Container directories removed side by side share one `rm -rf` (a
 * container's directory holds ~70 entries, mostly the mount points runc
 * makes in its upper layer: Node's recursive rm walks them one libuv
 * request at a time, ~0.4 s for a `down` of 30). `--one-file-system` never
 * descends into a mount still under a directory (a bind mount's source is
 * not the container's to delete).
 */
const trees = new Batcher<string>(async (dirs) => {
  await runCommand('rm', ['-rf', '--one-file-system', '--', ...dirs])
})

async function removeTree(dir: string): Promise<void> {
  await trees.add([dir])
  // Left (rm refused a mount below it, or is missing): the same removal in-process, as before.
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true })
}

/** A small file's text, or '' when it is missing. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

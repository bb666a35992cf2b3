import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Labels, Volume, VolumeSpec } from '../engine.js'
import { EngineError } from '../errors.js'
import { readJson, writeJson } from './containers/state.js'
import type { Root } from './root.js'

interface VolumeMeta extends VolumeSpec {
  createdAt: string
  /** `driver_opts` type none / o bind: the data lives at this host path. */
  device?: string
}

/**
 * Named volumes: volumes/<name>/_data holds the data and meta.json the
 * labels and options. A volume with driver_opts `type: none, o: bind,
 * device: PATH` is that host directory instead.
 */
export class VolumeStore {
  constructor(private readonly root: Root) {}

  private dir(name: string): string {
    return this.root.path('volumes', name)
  }

  async create(spec: VolumeSpec): Promise<Volume> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(spec.name)) throw new EngineError('invalid', `invalid volume name "${spec.name}": use letters, digits, "_", "." and "-"`)
    if (spec.driver && spec.driver !== 'local') throw new EngineError('unsupported', `volume ${spec.name}: driver "${spec.driver}" is not supported by the embedded engine (only local)`)
    const existing = await this.inspect(spec.name)
    if (existing) return existing
    const opts = spec.driverOpts ?? {}
    let device: string | undefined
    if (opts.type !== undefined || opts.device !== undefined) {
      if (opts.type !== 'none' || !(opts.o ?? '').split(',').includes('bind') || !opts.device) {
        throw new EngineError('unsupported', `volume ${spec.name}: only driver_opts {type: none, o: bind, device: PATH} are supported by the embedded engine`)
      }
      device = opts.device
    }
    const temp = this.root.temp('volume')
    await mkdir(join(temp, '_data'), { recursive: true })
    const meta: VolumeMeta = { ...spec, createdAt: new Date().toISOString(), ...(device ? { device } : {}) }
    await writeJson(join(temp, 'meta.json'), meta)
    await mkdir(this.root.path('volumes'), { recursive: true })
    try {
      await rename(temp, this.dir(spec.name))
    } catch (err: any) {
      await rm(temp, { recursive: true, force: true })
      if (err?.code !== 'ENOTEMPTY' && err?.code !== 'EEXIST') throw err
    }
    return (await this.inspect(spec.name))!
  }

  /** A fresh anonymous volume, named as Docker names them (64 hex digits). */
  createAnonymous(labels: Labels = {}): Promise<Volume> {
    return this.create({ name: randomBytes(32).toString('hex'), labels: { 'com.docker.volume.anonymous': '', ...labels } })
  }

  async inspect(name: string): Promise<Volume | undefined> {
    const meta = await readJson<VolumeMeta>(join(this.dir(name), 'meta.json'))
    if (!meta) return undefined
    return { name: meta.name, driver: 'local', driverOpts: meta.driverOpts, labels: meta.labels ?? {}, mountpoint: meta.device ?? join(this.dir(name), '_data'), createdAt: meta.createdAt }
  }

  async list(labels: Labels = {}): Promise<Volume[]> {
    const names = await readdir(this.root.path('volumes')).catch(() => [] as string[])
    const volumes = await Promise.all(names.map((n) => this.inspect(n)))
    return volumes.filter((v): v is Volume => !!v && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
  }

  async remove(name: string): Promise<void> {
    if (!(await this.inspect(name))) throw new EngineError('not-found', `no such volume: ${name}`)
    const doomed = this.root.temp('removed-volume')
    await rename(this.dir(name), doomed)
    await rm(doomed, { recursive: true, force: true })
  }
}

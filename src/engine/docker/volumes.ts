import type { Labels, Volume, VolumeSpec } from '../engine.js'
import { type DockerClient, labelFilter } from './client.js'

interface VolumeInspect {
  Name: string
  Driver: string
  Options: Record<string, string> | null
  Labels: Record<string, string> | null
  Mountpoint: string
  CreatedAt: string
}

const volumeOf = (v: VolumeInspect): Volume => ({
  name: v.Name,
  driver: v.Driver,
  ...(v.Options && Object.keys(v.Options).length ? { driverOpts: v.Options } : {}),
  labels: v.Labels ?? {},
  mountpoint: v.Mountpoint,
  createdAt: v.CreatedAt,
})

export class Volumes {
  constructor(private readonly client: DockerClient) {}

  async list(labels: Labels): Promise<Volume[]> {
    const res = await this.client.json<{ Volumes: VolumeInspect[] | null }>('GET', '/volumes', { query: { filters: labelFilter(labels) } })
    return (res.Volumes ?? []).map(volumeOf)
  }

  async create(spec: VolumeSpec): Promise<Volume> {
    return volumeOf(await this.client.json<VolumeInspect>('POST', '/volumes/create', { body: { Name: spec.name, Driver: spec.driver ?? 'local', DriverOpts: spec.driverOpts ?? {}, Labels: spec.labels }, what: `volume ${spec.name}` }))
  }

  async remove(name: string): Promise<void> {
    await this.client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { what: `volume ${name}` })
  }
}

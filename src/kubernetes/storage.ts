import { LABEL } from '../labels.js'
import type { Mount, Service } from '../spec/project.js'
import { metadata, projectLabels, type Context } from './context.js'
import { dnsLabel, labelValue } from './names.js'
import type { Manifest, PersistentVolumeClaimSpec, PodVolume, VolumeMount } from './types.js'

/**
 * Named volumes as PersistentVolumeClaims.
 *
 * Kompose makes one claim per volume and mounts it from a Deployment; its
 * users then meet the ReadWriteOnce trap: a second replica, or the new pod of
 * a rolling update, on another node cannot attach the claim and waits
 * forever. So a volume only one service mounts becomes a volumeClaimTemplate
 * of that service's StatefulSet: each replica owns its claim, and a pod is
 * replaced in place. The template is the only trace of that volume (Kompose's
 * StatefulSets also wrote a standalone claim, left Pending, and a pod volume
 * beside it: kubernetes/kompose#2090). A volume several services mount
 * becomes one ReadWriteMany claim they share, which needs a storage class
 * that offers ReadWriteMany (NFS, CephFS, EFS, Azure Files …). An external
 * volume is a claim that already exists under the volume's name.
 */
export interface VolumePlan {
  /** Volume key → the workload whose StatefulSet holds it as a volumeClaimTemplate. */
  owner: Map<string, string>
}

/**
 * Which volumes are per-workload: `pods` maps each workload to the services
 * whose containers run in its pod (itself, and the services it runs as init
 * containers).
 */
export function planVolumes(ctx: Context, pods: Map<string, Service[]>): VolumePlan {
  const users = new Map<string, Set<string>>()
  for (const [workload, services] of pods) {
    for (const mount of services.flatMap((s) => s.volumes)) {
      if (mount.type !== 'volume' || !mount.source || ctx.project.volumes[mount.source]?.external) continue
      users.set(mount.source, (users.get(mount.source) ?? new Set()).add(workload))
    }
  }
  const owner = new Map<string, string>()
  for (const [volume, workloads] of users) {
    const [only] = workloads
    const service = ctx.project.services[only]
    if (workloads.size === 1 && service?.deploy?.mode !== 'global') owner.set(volume, only)
  }
  return { owner }
}

/** The standalone claims: every volume named in `used` that is neither external nor a claim template. */
export function claims(ctx: Context, plan: VolumePlan, used: Set<string>): Manifest[] {
  const out: Manifest[] = []
  for (const [key, volume] of Object.entries(ctx.project.volumes)) {
    if (!used.has(key)) continue
    for (const field of ['driver', 'driver_opts'] as const) {
      if (volume[field] !== undefined) ctx.warnings.object('volume', key, field, 'is not converted (a claim gets its storage from the storage class; use --storage-class)')
    }
    if (volume.external || plan.owner.has(key)) continue
    const name = ctx.names.claim('PersistentVolumeClaim', key, dnsLabel(volume.name))
    out.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: metadata(ctx, name, volumeLabels(ctx, key), volume.labels),
      spec: claimSpec(ctx, 'ReadWriteMany'),
    })
  }
  return out
}

export function claimSpec(ctx: Context, mode: 'ReadWriteOnce' | 'ReadWriteMany'): PersistentVolumeClaimSpec {
  return {
    accessModes: [mode],
    resources: { requests: { storage: ctx.options.volumeSize ?? '1Gi' } },
    ...(ctx.options.storageClass ? { storageClassName: ctx.options.storageClass } : {}),
  }
}

export function volumeLabels(ctx: Context, key: string): Record<string, string> {
  return { ...projectLabels(ctx), [LABEL.volume]: labelValue(key) }
}

/** The pod volumes and the container's mounts of one service. */
export interface Storage {
  volumes: PodVolume[]
  mounts: VolumeMount[]
  /** Volume keys this container needs as claim templates of its StatefulSet. */
  templates: string[]
}

/** A service's mounts, tmpfs and shm_size as pod volumes; `container` keeps generated volume names apart between containers of one pod. */
export function storage(ctx: Context, service: Service, container: string, plan: VolumePlan): Storage {
  const out: Storage = { volumes: [], mounts: [], templates: [] }
  service.volumes.forEach((mount, i) => {
    const volume = podVolume(ctx, service, mount, `${container}-${mount.type}-${i}`, plan)
    if (!volume) return
    if (volume.template) out.templates.push(volume.template)
    else out.volumes.push(volume.volume)
    const subpath = mount.type === 'volume' ? mount.volume.subpath : undefined
    out.mounts.push({ name: volume.volume.name, mountPath: mount.target, ...(subpath ? { subPath: subpath } : {}), ...(mount.read_only ? { readOnly: true } : {}) })
  })
  ;(service.tmpfs ?? []).forEach((entry, i) => {
    const [path, options = ''] = entry.split(/:(.*)/s)
    const size = /(?:^|,)size=(\d+)([kmg]?)/i.exec(options)
    const bytes = size ? Number(size[1]) * 1024 ** ' kmg'.indexOf((size[2] || ' ').toLowerCase()) : undefined
    const name = dnsLabel(`${container}-tmpfs-${i}`)
    out.volumes.push({ name, emptyDir: { medium: 'Memory', ...(bytes ? { sizeLimit: bytesQuantity(bytes) } : {}) } })
    out.mounts.push({ name, mountPath: path })
  })
  if (service.shm_size) {
    const name = dnsLabel(`${container}-shm`)
    out.volumes.push({ name, emptyDir: { medium: 'Memory', sizeLimit: bytesQuantity(service.shm_size) } })
    out.mounts.push({ name, mountPath: '/dev/shm' })
  }
  return out
}

function podVolume(ctx: Context, service: Service, mount: Mount, generated: string, plan: VolumePlan): { volume: PodVolume; template?: string } | undefined {
  const field = `volumes "${mount.target}"`
  switch (mount.type) {
    case 'volume': {
      if (!mount.source) return { volume: { name: dnsLabel(generated), emptyDir: {} } }
      const volume = ctx.project.volumes[mount.source]
      const name = ctx.names.claim('volume', mount.source, dnsLabel(mount.source))
      if (plan.owner.has(mount.source)) return { volume: { name }, template: mount.source }
      return { volume: { name, persistentVolumeClaim: { claimName: dnsLabel(volume?.name ?? mount.source) } } }
    }
    case 'tmpfs':
      return { volume: { name: dnsLabel(generated), emptyDir: { medium: 'Memory', ...(mount.tmpfs.size ? { sizeLimit: bytesQuantity(mount.tmpfs.size) } : {}) } } }
    case 'bind':
      if (!ctx.options.hostPath) {
        ctx.warnings.service(service.name, field, `(bind mount of ${mount.source}) is not converted: a path of this machine is not on the cluster's nodes (use a named volume or a config, or --host-path)`)
        return undefined
      }
      if (mount.bind.propagation || mount.bind.selinux) ctx.warnings.service(service.name, `${field} bind options`, 'are not converted (hostPath has none)')
      return { volume: { name: dnsLabel(generated), hostPath: { path: mount.source, ...(mount.bind.create_host_path ? { type: 'DirectoryOrCreate' } : {}) } } }
    default:
      ctx.warnings.service(service.name, field, `(a ${mount.type} mount) is not converted`)
      return undefined
  }
}

/** Bytes as a Kubernetes quantity, in the largest binary unit that divides them (512Mi, not 536870912). */
export function bytesQuantity(bytes: number): string {
  for (const [unit, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`
  }
  return String(bytes)
}

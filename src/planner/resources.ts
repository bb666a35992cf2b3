import type { NetworkSpec, VolumeSpec } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'
import { PIER_COMPOSE_VERSION } from './container-spec.js'
import { PlanError } from './errors.js'

/** A Compose network as the engine creates it, with Compose's labels; checked at planning time. */
export function networkSpec(project: Project, key: string): NetworkSpec {
  const n = project.networks[key]
  if (n.ipam?.driver && n.ipam.driver !== 'default') throw new PlanError('unsupported', `network ${key}: ipam driver "${n.ipam.driver}" is not supported (only default)`)
  return {
    name: n.name,
    ...(n.driver ? { driver: n.driver } : {}),
    ...(n.driver_opts ? { driverOpts: n.driver_opts } : {}),
    internal: n.internal ?? false,
    enableIpv6: n.enable_ipv6 ?? false,
    ...(n.attachable !== undefined ? { attachable: n.attachable } : {}),
    ...(n.ipam?.config?.length
      ? { ipam: n.ipam.config.map((c) => ({ ...(c.subnet ? { subnet: c.subnet } : {}), ...(c.ip_range ? { ipRange: c.ip_range } : {}), ...(c.gateway ? { gateway: c.gateway } : {}), ...(c.aux_addresses ? { auxAddresses: c.aux_addresses } : {}) })) }
      : {}),
    labels: { ...n.labels, [LABEL.project]: project.name, [LABEL.network]: key, [LABEL.version]: PIER_COMPOSE_VERSION },
  }
}

/** A Compose volume as the engine creates it, with Compose's labels. */
export function volumeSpec(project: Project, key: string): VolumeSpec {
  const v = project.volumes[key]
  return {
    name: v.name,
    ...(v.driver ? { driver: v.driver } : {}),
    ...(v.driver_opts ? { driverOpts: v.driver_opts } : {}),
    labels: { ...v.labels, [LABEL.project]: project.name, [LABEL.volume]: key, [LABEL.version]: PIER_COMPOSE_VERSION },
  }
}

import type { Service } from '../spec/project.js'
import type { Context } from './context.js'

/**
 * Every field of a Compose service, and what the conversion does with it.
 * A field the converter maps is in MAPPED (workloads.ts and its helpers map
 * it, and warn there about the values that do not map); a field with no
 * Kubernetes meaning is in UNCONVERTED with the reason a user reads; a field
 * in neither (one a later Compose version adds) is reported too, so nothing
 * set in a compose file is dropped without a line saying so.
 */
const MAPPED = new Set([
  'name', 'profiles', 'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'labels', 'label_file',
  'annotations', 'ports', 'expose', 'volumes', 'tmpfs', 'networks', 'network_mode', 'depends_on', 'links', 'healthcheck',
  'restart', 'deploy', 'scale', 'hostname', 'user', 'working_dir', 'tty', 'stdin_open', 'read_only', 'privileged', 'init',
  'cap_add', 'cap_drop', 'security_opt', 'sysctls', 'secrets', 'configs', 'mem_limit', 'mem_reservation', 'cpus',
  'shm_size', 'stop_grace_period', 'ipc', 'pid', 'platform', 'pull_policy', 'post_start', 'pre_stop', 'extra_hosts',
  'dns_search', 'dns_opt', 'group_add', 'extends',
])

const UNCONVERTED: Record<string, string> = {
  container_name: 'Kubernetes names the pods of a workload',
  external_links: 'there are no containers outside the cluster to link to',
  volumes_from: 'mount a shared named volume instead',
  dns: "pods resolve through the cluster's DNS, which Service names need",
  domainname: 'pods take the cluster domain',
  mac_address: 'the network plugin assigns addresses',
  logging: 'the cluster collects container output',
  devices: 'devices come from a device plugin',
  ulimits: 'the container runtime of the node sets them',
  stop_signal: 'Kubernetes 1.33 sends SIGTERM; lifecycle.stopSignal is alpha',
  develop: 'watch is a development loop on this machine',
  attach: "it chooses which logs pier's own up follows",
  gpus: 'request the device plugin resource (nvidia.com/gpu) by hand',
}

export function unconvertedFields(ctx: Context, service: Service): void {
  for (const [field, value] of Object.entries(service)) {
    if (MAPPED.has(field) || field.startsWith('x-') || isUnset(value)) continue
    ctx.warnings.service(service.name, field, `is not converted (${UNCONVERTED[field] ?? 'Kubernetes has no equivalent'})`)
  }
}

/** A value that sets nothing: absent, false, or empty. */
function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return true
  if (Array.isArray(value)) return value.length === 0
  if (typeof value === 'object') return Object.keys(value).length === 0
  return false
}

import type { ContainerSpec, EngineCapabilities, OptionalField } from '../engine/engine.js'
import type { Service } from '../spec/project.js'
import { PlanError } from './errors.js'

/**
 * Service attributes the Compose specification allows that no pier driver
 * translates yet. Each is named to the user when set, never dropped silently.
 */
const UNTRANSLATED = ['uts', 'cgroup', 'cpu_rt_period', 'cpu_rt_runtime', 'cpu_count', 'cpu_percent', 'runtime', 'isolation', 'credential_spec', 'device_cgroup_rules', 'post_start', 'pre_stop', 'mem_reservation_soft'] as const

/** The Compose attribute behind each optional ContainerSpec field, for messages in the user's words. */
const ATTRIBUTE: Record<OptionalField, string> = {
  ipc: 'ipc',
  pid: 'pid',
  volumesFrom: 'volumes_from',
  groupAdd: 'group_add',
  cgroupParent: 'cgroup_parent',
  usernsMode: 'userns_mode',
  logging: 'logging',
  storageOpt: 'storage_opt',
  gpus: 'gpus',
  'limits.memSwappiness': 'mem_swappiness',
  'limits.oomKillDisable': 'oom_kill_disable',
  'limits.blkio': 'blkio_config',
}

function valueOf(spec: ContainerSpec, field: OptionalField): unknown {
  return field.startsWith('limits.') ? (spec.limits as Record<string, unknown>)[field.slice('limits.'.length)] : (spec as unknown as Record<string, unknown>)[field]
}

/**
 * What the engine cannot honour of a service's spec, decided at planning
 * time: a refused field stops the plan (nothing is made), an ignored one
 * becomes a warning line. Returns the warnings.
 */
export function checkSupport(service: Service, spec: ContainerSpec, capabilities: EngineCapabilities | undefined, engineName = 'this engine'): string[] {
  const warnings: string[] = []
  for (const attribute of UNTRANSLATED) {
    if (service[attribute] !== undefined) warnings.push(`service "${service.name}": ${attribute} is not supported by pier yet and is ignored`)
  }
  for (const [field, rule] of Object.entries(capabilities?.fields ?? {}) as [OptionalField, NonNullable<EngineCapabilities['fields'][OptionalField]>][]) {
    const value = valueOf(spec, field)
    if (value === undefined || rule.accepts?.(value)) continue
    const what = `service "${service.name}": ${ATTRIBUTE[field]}${typeof value === 'string' ? ` "${value}"` : ''} is not supported by ${engineName}${rule.why ? ` (${rule.why})` : ''}`
    if (rule.action === 'refuse') throw new PlanError('unsupported', `${what}: remove it, or use another engine`)
    warnings.push(`${what}; it is ignored`)
  }
  return warnings
}

import type { Service } from '../spec/project.js'
import { selector, type Context } from './context.js'
import type { PodSpec } from './types.js'

/**
 * The Swarm-era `deploy` fields that have a Kubernetes meaning:
 * `update_config` as the rollout strategy, `placement` as node affinity.
 * Swarm's constraints all hold at once, as the match expressions of one
 * node selector term do.
 */

type Kind = 'Deployment' | 'StatefulSet' | 'DaemonSet'

/** update_config as a rolling update: start-first surges by `parallelism`, stop-first (Swarm's default) takes that many down first. */
export function rollout(ctx: Context, service: Service, kind: Kind): { strategy?: unknown; updateStrategy?: unknown; minReadySeconds?: number } {
  // Durations are milliseconds, as the loader normalizes them.
  const update = service.deploy?.update_config
  const warn = (field: string, why: string) => ctx.warnings.service(service.name, `deploy.update_config.${field}`, why)
  if (service.deploy?.rollback_config !== undefined) ctx.warnings.service(service.name, 'deploy.rollback_config', 'is not converted (Kubernetes does not roll back on its own: kubectl rollout undo)')
  if (!update) return {}
  if (update.delay) warn('delay', 'is not converted (Kubernetes moves on when the new pods are available)')
  if (update.failure_action && update.failure_action !== 'pause') warn(`failure_action "${update.failure_action}"`, 'is not converted (a stuck rollout stops at its progress deadline)')
  if (update.max_failure_ratio) warn('max_failure_ratio', 'is not converted')
  const minReadySeconds = update.monitor ? Math.ceil(update.monitor / 1000) : undefined
  const ready = minReadySeconds ? { minReadySeconds } : {}
  if (kind === 'StatefulSet') {
    if (update.parallelism !== undefined || update.order !== undefined) warn('parallelism', 'is not converted (a StatefulSet replaces its pods one at a time)')
    return ready
  }
  const count: number | string = update.parallelism === 0 ? '100%' : (update.parallelism ?? 1)
  const rollingUpdate = update.order === 'start-first' ? { maxSurge: count, maxUnavailable: 0 } : { maxSurge: 0, maxUnavailable: count }
  return kind === 'Deployment' ? { strategy: { type: 'RollingUpdate', rollingUpdate }, ...ready } : { updateStrategy: { type: 'RollingUpdate', rollingUpdate }, ...ready }
}

/** Swarm's node names for the node labels Kubernetes sets itself. */
const NODE_FIELDS: Record<string, string> = { 'node.hostname': 'kubernetes.io/hostname', 'node.platform.os': 'kubernetes.io/os', 'node.platform.arch': 'kubernetes.io/arch' }
const ARCH: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' }

/** placement: constraints on node labels, host name and platform as required node affinity; one replica per node as pod anti-affinity. */
export function placement(ctx: Context, service: Service): Pick<PodSpec, 'affinity'> {
  const place = service.deploy?.placement as { constraints?: string[]; preferences?: unknown[]; max_replicas_per_node?: number } | undefined
  if (!place) return {}
  const warn = (field: string, why: string) => ctx.warnings.service(service.name, `deploy.placement.${field}`, why)
  const expressions: { key: string; operator: 'In' | 'NotIn'; values: string[] }[] = []
  for (const constraint of place.constraints ?? []) {
    const m = /^\s*([^=!\s]+)\s*(==|!=)\s*(.+?)\s*$/.exec(constraint)
    const key = m && (m[1].startsWith('node.labels.') ? m[1].slice('node.labels.'.length) : NODE_FIELDS[m[1]])
    if (!m || !key) {
      warn(`constraints "${constraint}"`, 'is not converted (Kubernetes places by node labels, host name and platform)')
      continue
    }
    const value = key === 'kubernetes.io/arch' ? (ARCH[m[3]] ?? m[3]) : m[3]
    expressions.push({ key, operator: m[2] === '==' ? 'In' : 'NotIn', values: [value] })
  }
  if (place.preferences?.length) warn('preferences', 'is not converted (use topologySpreadConstraints by hand)')
  const perNode = place.max_replicas_per_node
  if (perNode !== undefined && perNode !== 1) warn('max_replicas_per_node', `is not converted (only 1 maps, to pod anti-affinity)`)
  const affinity = {
    ...(expressions.length ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: expressions }] } } } : {}),
    ...(perNode === 1 ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: selector(ctx, service) }, topologyKey: 'kubernetes.io/hostname' }] } } : {}),
  }
  return Object.keys(affinity).length ? { affinity } : {}
}

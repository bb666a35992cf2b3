import { LABEL } from '../labels.js'
import type { Service, ServiceSpec } from './api.js'

/**
 * The decision of `up` on Swarm, pure: the services wanted against the
 * services the swarm runs for the project. A service whose config hash is
 * unchanged is left alone (its tasks keep running), a changed one is updated
 * (a rolling update, as its update_config says), a new one created, and one
 * the project no longer has removed.
 */
export interface ServiceChanges {
  create: ServiceSpec[]
  update: { current: Service; spec: ServiceSpec }[]
  unchanged: Service[]
  remove: Service[]
}

export function reconcileServices(wanted: ServiceSpec[], running: Service[]): ServiceChanges {
  const byName = new Map(running.map((s) => [s.Spec.Name, s]))
  const names = new Set(wanted.map((s) => s.Name))
  const out: ServiceChanges = { create: [], update: [], unchanged: [], remove: running.filter((s) => !names.has(s.Spec.Name)) }
  for (const spec of wanted) {
    const current = byName.get(spec.Name)
    if (!current) out.create.push(spec)
    else if (current.Spec.Labels?.[LABEL.configHash] === spec.Labels[LABEL.configHash]) out.unchanged.push(current)
    else out.update.push({ current, spec })
  }
  return out
}

import type { Project, Service } from '../spec/project.js'

/**
 * Compose's naming rules, in one place: every reference from one service to
 * another's containers (network_mode, ipc and pid `service:`, links,
 * volumes_from) is resolved here, so `container_name` and `--scale` are
 * honoured the same way everywhere.
 */

/** How many replicas a service runs: `--scale`, then `scale`, then `deploy.replicas`, else one. */
export function replicasOf(service: Service, scale?: Record<string, number>): number {
  return scale?.[service.name] ?? service.scale ?? service.deploy?.replicas ?? 1
}

/** Replica `number` of `service`: its `container_name`, else `<project>-<service>-<n>`. */
export function containerName(project: string, service: Service, number: number): string {
  return service.container_name ?? `${project}-${service.name}-${number}`
}

/** The container a `service:NAME` reference joins: that service's first replica, as Compose joins it. */
export function firstContainerOf(project: Project, service: string): string {
  const other = project.services[service]
  return other ? containerName(project.name, other, 1) : `${project.name}-${service}-1`
}

/** Every replica of `service` (links reach all of them). */
export function containersOf(project: Project, service: string, scale?: Record<string, number>): string[] {
  const other = project.services[service]
  if (!other) return [`${project.name}-${service}-1`]
  return Array.from({ length: replicasOf(other, scale) }, (_, i) => containerName(project.name, other, i + 1))
}

/** `service:NAME` → `container:<its first replica>`; anything else as written. */
export function resolveServiceMode(project: Project, mode: string): string {
  return mode.startsWith('service:') ? `container:${firstContainerOf(project, mode.slice('service:'.length))}` : mode
}

import type { Project, Service } from '../spec/project.js'
import { toYaml } from '../spec/serialize.js'
import { fileObjects } from './config.js'
import { metadata, projectLabels, type Context, type KubernetesOptions } from './context.js'
import { unconvertedFields } from './fields.js'
import { Names } from './names.js'
import { networkPolicies } from './network-policy.js'
import { publishedPorts, services as serviceObjects, type ServicePort } from './services.js'
import { claims, planVolumes } from './storage.js'
import type { Manifest } from './types.js'
import { Warnings } from './warnings.js'
import { workload } from './workloads.js'

export type { KubernetesOptions, PublishedAs } from './context.js'
export type { Manifest } from './types.js'
export { ConversionError } from './warnings.js'

/** The manifests of a project, and one line per Compose field they do not carry. */
export interface Conversion {
  documents: Manifest[]
  warnings: string[]
}

/**
 * A loaded, normalized project as Kubernetes manifests, in the order they
 * apply: Namespace, NetworkPolicies, ConfigMaps, Secrets, claims, Services,
 * workloads. Top-level networks, volumes, secrets and configs are converted
 * when a converted service uses them (an unused claim would hold storage for
 * nothing). The result depends on the project alone (services in their
 * Compose order, no timestamps, no random names), so converting twice gives
 * the same bytes and a golden file can pin it.
 */
export async function convertToKubernetes(project: Project, options: KubernetesOptions = {}, only: string[] = []): Promise<Conversion> {
  const warnings = new Warnings()
  const ctx: Context = { project, options, names: new Names(warnings), warnings, serviceNames: new Map() }
  const selected = selectServices(project, only)
  for (const service of selected) ctx.serviceNames.set(service.name, ctx.names.service(service.name))

  const initOnly = initOnlyServices(selected)
  const workloads = selected.filter((s) => !initOnly.has(s.name))
  const inits = new Map(workloads.map((s) => [s.name, initServices(project, s)]))
  const plan = planVolumes(ctx, new Map(workloads.map((s) => [s.name, [s, ...inits.get(s.name)!]])))

  const services: Manifest[] = []
  const controllers: Manifest[] = []
  const published = new Map<string, ServicePort[]>()
  for (const service of selected) {
    unconvertedFields(ctx, service)
    dependencyWarnings(ctx, service)
  }
  for (const name of initOnly) initOnlyWarnings(ctx, project.services[name], workloads.filter((w) => inits.get(w.name)!.some((s) => s.name === name)))
  for (const service of workloads) {
    const { manifest, headless } = workload(ctx, service, inits.get(service.name)!, plan)
    controllers.push(manifest)
    services.push(...serviceObjects(ctx, service, headless))
    if (options.publishedAs !== 'none') published.set(service.name, publishedPorts(ctx, service))
  }
  const documents = [
    ...(options.namespace ? [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.namespace, labels: projectLabels(ctx) } }] : []),
    ...networkPolicies(ctx, workloads, published),
    ...(await fileObjects(ctx, 'config', new Set(selected.flatMap((s) => (s.configs ?? []).map((r) => r.source))))),
    ...(await fileObjects(ctx, 'secret', new Set(selected.flatMap((s) => (s.secrets ?? []).map((r) => r.source))))),
    ...claims(ctx, plan, new Set(selected.flatMap((s) => s.volumes.flatMap((m) => (m.type === 'volume' && m.source ? [m.source] : []))))),
    ...services,
    ...controllers,
  ]
  return { documents, warnings: warnings.lines }
}

/** The documents as one multi-document YAML stream. */
export async function manifestsYaml(documents: Manifest[]): Promise<string> {
  const parts = await Promise.all(documents.map((d) => toYaml(d)))
  return parts.map((p) => `---\n${p}`).join('')
}

/** The services to convert: those named and what they depend on, or all; in the project's order. */
function selectServices(project: Project, only: string[]): Service[] {
  if (only.length === 0) return Object.values(project.services)
  const keep = new Set<string>()
  const visit = (name: string) => {
    const service = project.services[name]
    if (!service || keep.has(name)) return
    keep.add(name)
    Object.keys(service.depends_on).forEach(visit)
  }
  only.forEach(visit)
  return Object.values(project.services).filter((s) => keep.has(s.name))
}

/**
 * The services every dependent waits for with `service_completed_successfully`:
 * one-shot jobs (a migration, a seed) that run as init containers of their
 * dependents and get no workload of their own (a Deployment would restart
 * them forever once they exit).
 */
function initOnlyServices(selected: Service[]): Set<string> {
  const conditions = new Map<string, string[]>()
  for (const service of selected) {
    for (const [dep, { condition }] of Object.entries(service.depends_on)) conditions.set(dep, [...(conditions.get(dep) ?? []), condition])
  }
  return new Set([...conditions].filter(([, c]) => c.every((x) => x === 'service_completed_successfully')).map(([dep]) => dep))
}

/** The services a service waits to complete, transitively, dependencies first. */
function initServices(project: Project, service: Service): Service[] {
  const out: Service[] = []
  const seen = new Set<string>([service.name])
  const visit = (s: Service) => {
    for (const [dep, { condition }] of Object.entries(s.depends_on)) {
      const target = project.services[dep]
      if (condition !== 'service_completed_successfully' || !target || seen.has(dep)) continue
      seen.add(dep)
      visit(target)
      out.push(target)
    }
  }
  visit(service)
  return out
}

/**
 * A one-shot service lives in its dependents' pods: what only a workload of
 * its own would carry (ports, a healthcheck, pod-wide fields) is named, and
 * so is running more than once, where Compose runs it once per `up`.
 */
function initOnlyWarnings(ctx: Context, service: Service, pods: Service[]): void {
  const many = pods.length > 1 || pods.some((w) => w.deploy?.mode === 'global' || (w.deploy?.replicas ?? w.scale ?? 1) > 1)
  if (many) ctx.warnings.service(service.name, 'run once', `is not converted: it runs as an init container of ${pods.map((w) => `"${w.name}"`).join(', ')}, once per pod start (make it idempotent, or run it as a Job by hand)`)
  const podWide = ['ports', 'expose', 'healthcheck', 'hostname', 'extra_hosts', 'dns_search', 'dns_opt', 'platform', 'stop_grace_period', 'network_mode', 'pid', 'ipc', 'sysctls', 'group_add', 'post_start', 'pre_stop'] as const
  for (const field of podWide) {
    const value = service[field]
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue
    ctx.warnings.service(service.name, field, 'is not converted (the service runs as an init container of its dependents)')
  }
}

function dependencyWarnings(ctx: Context, service: Service): void {
  for (const [dep, { condition, restart, implied }] of Object.entries(service.depends_on)) {
    // A dependency Compose added by itself (network_mode: service:X, volumes_from, …) was never asked for: nothing to warn about.
    if (implied) continue
    if (condition === 'service_healthy') {
      ctx.warnings.service(service.name, `depends_on "${dep}" (service_healthy)`, `is not converted as a start order: pods start together, and "${dep}"'s readinessProbe keeps its Service from sending traffic until it is healthy`)
    }
    if (restart) ctx.warnings.service(service.name, `depends_on "${dep}" restart`, 'is not converted (pods are not restarted with their dependencies)')
  }
}

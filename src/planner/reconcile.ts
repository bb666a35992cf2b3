import type { Project, Service } from '../spec/project.js'
import { PlanError } from './errors.js'
import { DependencyGraph } from './graph.js'
import { configHash } from './hash.js'
import { LABEL } from './labels.js'
import type { Action, Condition, Plan, Reason, Step } from './plan.js'

/** One container of the project as the engine reports it. */
export interface ObservedContainer {
  id: string
  name: string
  labels: Record<string, string>
  /** `running` (or paused, restarting) counts as running. */
  running: boolean
}

/** Everything the engine holds for the project, taken once per command. */
export interface ObservedState {
  containers: ObservedContainer[]
  networks: string[]
  volumes: string[]
}

export interface UpOptions {
  /** Only these services (and, unless noDeps, what they need). */
  services?: string[]
  noDeps?: boolean
  forceRecreate?: boolean
  noRecreate?: boolean
  noStart?: boolean
  removeOrphans?: boolean
  /** `--scale SERVICE=N`, over scale/deploy.replicas. */
  scale?: Record<string, number>
  /** The image ID each service's containers would be made from now, when known. */
  images?: Record<string, string>
}

export function replicasOf(service: Service, scale?: Record<string, number>): number {
  return scale?.[service.name] ?? service.scale ?? service.deploy?.replicas ?? 1
}

export function containerName(project: string, service: Service, number: number): string {
  return service.container_name ?? `${project}-${service.name}-${number}`
}

/**
 * `up` as a pure function: the desired project against what the engine
 * holds → the steps between them. Pure, so it is tested without an engine.
 */
export function reconcileUp(project: Project, observed: ObservedState, options: UpOptions = {}): Plan {
  const graph = DependencyGraph.of(project)
  const selected = options.services?.length ? (options.noDeps ? graph.startOrder().filter((s) => options.services!.includes(s)) : graph.withDependencies(options.services)) : graph.startOrder()
  const plan = new PlanBuilder(project.name)

  // Networks and volumes the selected services use, that the engine lacks.
  const networkSteps = new Map<string, string>()
  const volumeSteps = new Map<string, string>()
  for (const name of selected) {
    const service = project.services[name]
    for (const key of Object.keys(service.networks ?? {})) {
      const network = project.networks[key]
      if (network?.external && !observed.networks.includes(network.name)) {
        throw new PlanError('not-found', `network ${network.name} declared as external, but could not be found: create it first, or remove external: true`)
      }
      if (!network || network.external || observed.networks.includes(network.name) || networkSteps.has(key)) continue
      networkSteps.set(key, plan.add({ kind: 'create-network', network: key, name: network.name }, 'new'))
    }
    for (const mount of service.volumes) {
      if (mount.type !== 'volume' || !mount.source) continue
      const volume = project.volumes[mount.source]
      if (volume?.external && !observed.volumes.includes(volume.name)) {
        throw new PlanError('not-found', `external volume "${volume.name}" not found: create it first, or remove external: true`)
      }
      if (!volume || volume.external || observed.volumes.includes(volume.name) || volumeSteps.has(mount.source)) continue
      volumeSteps.set(mount.source, plan.add({ kind: 'create-volume', volume: mount.source, name: volume.name }, 'new'))
    }
  }

  // Containers, service by service in dependency order.
  const started = new Map<string, string[]>() // service → its start steps in this plan
  const recreated = new Set<string>()
  const byService = groupByService(observed.containers, project.name)
  for (const name of selected) {
    const service = project.services[name]
    const hash = configHash(service)
    const image = options.images?.[name]
    const existing = (byService.get(name) ?? []).sort((a, b) => number(a) - number(b))
    const replicas = replicasOf(service, options.scale)

    // What this service's containers wait for: its networks and volumes, and its
    // dependencies' conditions. A dependency left running is awaited only if
    // this service has something to start.
    const prerequisites: { step: string; condition: Condition }[] = []
    const awaits: { service: string; condition: 'healthy' | 'completed' }[] = []
    for (const key of Object.keys(service.networks ?? {})) if (networkSteps.has(key)) prerequisites.push({ step: networkSteps.get(key)!, condition: 'done' })
    for (const m of service.volumes) if (m.type === 'volume' && m.source && volumeSteps.has(m.source)) prerequisites.push({ step: volumeSteps.get(m.source)!, condition: 'done' })
    let dependencyRecreated = false
    for (const edge of graph.dependencies(name)) {
      const condition: Condition = edge.condition === 'service_healthy' ? 'healthy' : edge.condition === 'service_completed_successfully' ? 'completed' : 'started'
      const steps = started.get(edge.to)
      // Creating without starting (create, up --no-start) orders by creation only: nothing runs to wait on.
      if (steps?.length) for (const step of steps) prerequisites.push({ step, condition: options.noStart ? 'done' : condition })
      else if (condition !== 'started' && !options.noStart) awaits.push({ service: edge.to, condition })
      if (edge.restart && recreated.has(edge.to)) dependencyRecreated = true
    }
    let awaited = false
    const ready = () => {
      if (!awaited) {
        awaited = true
        for (const a of awaits) prerequisites.push({ step: plan.add({ kind: 'await-service', ...a }, 'dependency condition'), condition: 'done' })
      }
      return prerequisites
    }

    const starts: string[] = []
    for (let n = 1; n <= replicas; n++) {
      const current = existing.find((c) => number(c) === n)
      const containerNameN = containerName(project.name, service, n)
      const reason = current ? recreateReason(current, hash, image, options, dependencyRecreated) : 'new'
      if (current && reason === undefined) {
        if (!current.running && !options.noStart) starts.push(plan.add({ kind: 'start-container', service: name, name: current.name }, 'stopped', [...ready()]))
        continue
      }
      let after = [...ready()]
      if (current) {
        recreated.add(name)
        const stop = plan.add({ kind: 'stop-container', service: name, name: current.name, id: current.id }, reason!)
        const remove = plan.add({ kind: 'remove-container', service: name, name: current.name, id: current.id }, reason!, [{ step: stop, condition: 'done' }])
        after = [...after, { step: remove, condition: 'done' }]
      }
      const create = plan.add({ kind: 'create-container', service: name, number: n, name: containerNameN }, reason ?? 'new', after)
      if (!options.noStart) starts.push(plan.add({ kind: 'start-container', service: name, name: containerNameN }, reason ?? 'new', [{ step: create, condition: 'done' }, ...ready()]))
    }
    started.set(name, starts)

    // Scale down: the highest numbers go first.
    for (const extra of existing.filter((c) => number(c) > replicas).reverse()) removeContainer(plan, extra, 'scale down', name)
  }

  const orphans = observed.containers.filter((c) => c.labels[LABEL.project] === project.name && c.labels[LABEL.oneoff] !== 'True' && !(c.labels[LABEL.service] in project.services) && !(c.labels[LABEL.service] in project.disabledServices))
  if (orphans.length && options.removeOrphans) for (const o of orphans) removeContainer(plan, o, 'orphan', o.labels[LABEL.service])
  else if (orphans.length) {
    plan.warnings.push(`found orphan containers (${orphans.map((o) => o.name).join(', ')}) for this project: if you removed or renamed their service, run with --remove-orphans to clean them up`)
  }
  return plan.build()
}

export interface DownOptions {
  volumes?: boolean
  removeOrphans?: boolean
}

/**
 * `down`: every container of the project stopped (what depends on a service
 * before the service) and removed, then its networks, and its volumes with
 * `volumes`. Works from what the engine holds, whatever state it is in.
 */
export function reconcileDown(project: Project, observed: ObservedState, options: DownOptions = {}): Plan {
  const plan = new PlanBuilder(project.name)
  const graph = DependencyGraph.of(project)
  const mine = observed.containers.filter((c) => c.labels[LABEL.project] === project.name)
  const known = (c: ObservedContainer) => c.labels[LABEL.service] in project.services || c.labels[LABEL.service] in project.disabledServices
  const targets = mine.filter((c) => known(c) || options.removeOrphans)
  const stops = new Map<string, string[]>()
  const removes: string[] = []
  // Reverse start order: a service stops after everything that depends on it.
  const order = [...graph.startOrder()].reverse()
  const rank = (c: ObservedContainer) => {
    const i = order.indexOf(c.labels[LABEL.service])
    return i < 0 ? -1 : i
  }
  for (const c of [...targets].sort((a, b) => rank(a) - rank(b))) {
    const service = c.labels[LABEL.service]
    const after = graph.services.includes(service) ? graph.dependents(service).flatMap((e) => (stops.get(e.from) ?? []).map((step) => ({ step, condition: 'done' as Condition }))) : []
    const stop = plan.add({ kind: 'stop-container', service, name: c.name, id: c.id }, 'down', after)
    stops.set(service, [...(stops.get(service) ?? []), stop])
    removes.push(plan.add({ kind: 'remove-container', service, name: c.name, id: c.id }, 'down', [{ step: stop, condition: 'done' }]))
  }
  const afterRemoves = removes.map((step) => ({ step, condition: 'done' as Condition }))
  for (const network of Object.values(project.networks)) {
    if (!network.external && observed.networks.includes(network.name)) plan.add({ kind: 'remove-network', name: network.name }, 'down', afterRemoves)
  }
  if (options.volumes) {
    for (const volume of Object.values(project.volumes)) {
      if (!volume.external && observed.volumes.includes(volume.name)) plan.add({ kind: 'remove-volume', name: volume.name }, 'down', afterRemoves)
    }
  }
  const left = mine.filter((c) => !targets.includes(c))
  if (left.length) plan.warnings.push(`found orphan containers (${left.map((o) => o.name).join(', ')}) for this project: run with --remove-orphans to remove them too`)
  return plan.build()
}

function recreateReason(c: ObservedContainer, hash: string, image: string | undefined, options: UpOptions, dependencyRecreated: boolean): Reason | undefined {
  if (options.noRecreate) return undefined
  if (options.forceRecreate) return 'forced'
  if (c.labels[LABEL.configHash] !== hash) return 'config changed'
  if (image && c.labels[LABEL.image] && c.labels[LABEL.image] !== image) return 'image changed'
  if (dependencyRecreated) return 'dependency recreated'
  return undefined
}

function removeContainer(plan: PlanBuilder, c: ObservedContainer, reason: Reason, service: string): void {
  const stop = plan.add({ kind: 'stop-container', service, name: c.name, id: c.id }, reason)
  plan.add({ kind: 'remove-container', service, name: c.name, id: c.id }, reason, [{ step: stop, condition: 'done' }])
}

function groupByService(containers: ObservedContainer[], project: string): Map<string, ObservedContainer[]> {
  const out = new Map<string, ObservedContainer[]>()
  for (const c of containers) {
    if (c.labels[LABEL.project] !== project || c.labels[LABEL.oneoff] === 'True') continue
    const service = c.labels[LABEL.service]
    out.set(service, [...(out.get(service) ?? []), c])
  }
  return out
}

function number(c: ObservedContainer): number {
  return Number(c.labels[LABEL.number] ?? 0)
}

/** Steps get ids in the order they are added, which is an order they can run in. */
class PlanBuilder {
  private readonly steps: Step[] = []
  readonly warnings: string[] = []

  constructor(private readonly project: string) {}

  add(action: Action, reason: Reason, after: { step: string; condition: Condition }[] = []): string {
    const id = `${this.steps.length + 1}`
    this.steps.push({ id, action, reason, after })
    return id
  }

  build(): Plan {
    return { project: this.project, steps: this.steps, warnings: this.warnings }
  }
}

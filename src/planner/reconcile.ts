import type { ContainerMount, EngineCapabilities, Image } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { Project, Service } from '../spec/project.js'
import { containerSpec } from './container-spec.js'
import { PlanError } from './errors.js'
import { DependencyGraph, type Edge } from './graph.js'
import { configHash } from './hash.js'
import { containerName, replicasOf } from './names.js'
import type { Action, After, Condition, Plan, Reason, Step } from './plan.js'
import { networkSpec, volumeSpec } from './resources.js'
import { checkSupport } from './support.js'

export { containerName, replicasOf } from './names.js'

/** One container of the project as the engine reports it. */
export interface ObservedContainer {
  id: string
  name: string
  labels: Record<string, string>
  /** `running` (or paused, restarting) counts as running. */
  running: boolean
  /** Its mounts: a replacement takes over its anonymous volumes. */
  mounts?: ContainerMount[]
  /** `exited`, `created`, … as the engine says (an exited one-off is an orphan; a running one is not). */
  state?: string
  /** The networks it has an address in (by name), where the engine reports them. */
  networks?: string[]
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
  /** Create without starting (`pier create`, `up --no-start`). */
  noStart?: boolean
  removeOrphans?: boolean
  /** COMPOSE_IGNORE_ORPHANS: no orphan warning. */
  ignoreOrphans?: boolean
  /** `--scale SERVICE=N`, over scale/deploy.replicas. */
  scale?: Record<string, number>
  /**
   * The image each selected service's containers are made from, resolved
   * (pulled, built) before planning; a container whose image ID changed is
   * recreated.
   */
  images: Record<string, Image>
  /** What the engine honours of a spec: the rest is refused or warned about here. */
  capabilities?: EngineCapabilities
  /** `-t`: the stop grace period for containers this plan stops, over the services' own. */
  stopTimeoutMs?: number
}

/**
 * The services a command acts on: the named ones and, unless `noDeps`,
 * everything they need (depends_on, links, volumes_from, `service:` modes),
 * in start order; all of them when none is named. Decided once, here: image
 * policy, planning and waiting all use this list.
 */
export function selectServices(project: Project, services: string[] = [], noDeps = false): string[] {
  const graph = DependencyGraph.of(project)
  if (services.length === 0) return graph.startOrder()
  return noDeps ? graph.startOrder().filter((s) => services.includes(s)) : graph.withDependencies(services)
}

/**
 * `up` as a pure function: the desired project against what the engine
 * holds → the steps between them. Every container spec is computed here, so
 * a spec error (or a field the engine refuses) stops the plan before
 * anything is made. Pure, so it is tested without an engine.
 */
export function reconcileUp(project: Project, observed: ObservedState, options: UpOptions): Plan {
  const graph = DependencyGraph.of(project)
  const selected = selectServices(project, options.services, options.noDeps)
  requireDonors(project, observed, selected)
  const plan = new PlanBuilder(project.name)
  const resources = planResources(plan, project, observed, selected)
  const byService = groupByService(observed.containers, project.name)
  const started = new Map<string, string[]>() // service → its start steps in this plan
  const recreated = new Set<string>()
  for (const name of selected) {
    planService(plan, project, name, graph.dependencies(name), byService.get(name) ?? [], { options, resources, started, recreated })
  }
  planOrphans(plan, project, observed, options)
  return plan.build()
}

/**
 * A service that shares another's volumes (volumes_from) or namespaces
 * (network_mode, ipc, pid `service:`) needs that service's container. One
 * neither in the engine nor made by this plan (`up --no-deps`, its container
 * removed) is refused before anything is made, in Compose's words.
 */
function requireDonors(project: Project, observed: ObservedState, selected: string[]): void {
  const present = (s: string) => selected.includes(s) || observed.containers.some((c) => c.labels[LABEL.project] === project.name && c.labels[LABEL.service] === s && !isOneOff(c))
  const refuse = (what: string, donor: string) => {
    throw new PlanError('not-found', `cannot share ${what} with service ${donor}: container missing (create it with "pier up -d ${donor}")`)
  }
  for (const name of selected) {
    const service = project.services[name]
    for (const from of service.volumes_from ?? []) {
      const donor = from.split(':')[0]
      if (!from.startsWith('container:') && donor in project.services && !present(donor)) refuse('volume', donor)
    }
    const namespaces = { network_mode: 'network namespace', ipc: 'IPC namespace', pid: 'PID namespace' } as const
    for (const [attr, what] of Object.entries(namespaces) as [keyof typeof namespaces, string][]) {
      const value = service[attr]
      if (typeof value === 'string' && value.startsWith('service:') && value.slice(8) in project.services && !present(value.slice(8))) refuse(what, value.slice(8))
    }
  }
}

interface Resources {
  networks: Map<string, string>
  volumes: Map<string, string>
}

/** Networks and volumes the selected services use that the engine lacks; external ones must exist. */
function planResources(plan: PlanBuilder, project: Project, observed: ObservedState, selected: string[]): Resources {
  const networks = new Map<string, string>()
  const volumes = new Map<string, string>()
  for (const name of selected) {
    const service = project.services[name]
    for (const key of Object.keys(service.networks ?? {})) {
      const network = project.networks[key]
      if (network?.external && !observed.networks.includes(network.name)) {
        throw new PlanError('not-found', `network ${network.name} declared as external, but could not be found: create it first, or remove external: true`)
      }
      if (!network || network.external || observed.networks.includes(network.name) || networks.has(key)) continue
      networks.set(key, plan.add({ kind: 'create-network', network: key, name: network.name, spec: networkSpec(project, key) }, 'new'))
    }
    for (const mount of service.volumes) {
      if (mount.type !== 'volume' || !mount.source) continue
      const volume = project.volumes[mount.source]
      if (volume?.external && !observed.volumes.includes(volume.name)) {
        throw new PlanError('not-found', `external volume "${volume.name}" not found: create it first, or remove external: true`)
      }
      if (!volume || volume.external || observed.volumes.includes(volume.name) || volumes.has(mount.source)) continue
      volumes.set(mount.source, plan.add({ kind: 'create-volume', volume: mount.source, name: volume.name, spec: volumeSpec(project, mount.source) }, 'new'))
    }
  }
  return { networks, volumes }
}

interface ServiceContext {
  options: UpOptions
  resources: Resources
  started: Map<string, string[]>
  recreated: Set<string>
}

/**
 * One service's replicas: kept, started, recreated or created, and the
 * highest numbers removed on scale-down. Each new container waits for the
 * service's networks and volumes and for its dependencies' conditions; a
 * dependency this plan leaves alone is awaited (`await-service`) only if the
 * service has something to start.
 */
function planService(plan: PlanBuilder, project: Project, name: string, dependencies: Edge[], existing: ObservedContainer[], ctx: ServiceContext): void {
  const { options } = ctx
  const service = project.services[name]
  const image = options.images[name]
  if (!image) throw new PlanError('invalid', `service "${name}" has no image resolved for it: this is a bug in the caller of the planner`)
  const hash = configHash(service)
  const sorted = [...existing].sort((a, b) => number(a) - number(b))
  const replicas = replicasOf(service, options.scale)

  const prerequisites: After[] = []
  for (const key of Object.keys(service.networks ?? {})) if (ctx.resources.networks.has(key)) prerequisites.push({ step: ctx.resources.networks.get(key)!, condition: 'done' })
  for (const m of service.volumes) if (m.type === 'volume' && m.source && ctx.resources.volumes.has(m.source)) prerequisites.push({ step: ctx.resources.volumes.get(m.source)!, condition: 'done' })
  const awaits: { service: string; condition: 'healthy' | 'completed'; optional: boolean }[] = []
  let dependencyRecreated = false
  for (const edge of dependencies) {
    const condition = conditionOf(edge)
    const steps = ctx.started.get(edge.to)
    const optional = !edge.required
    // Creating without starting (create, up --no-start) orders by creation only: nothing runs to wait on.
    if (steps?.length) for (const step of steps) prerequisites.push({ step, condition: options.noStart ? 'done' : condition, ...(optional ? { optional } : {}) })
    else if (condition !== 'started' && !options.noStart) awaits.push({ service: edge.to, condition, optional })
    if (edge.restart && ctx.recreated.has(edge.to)) dependencyRecreated = true
  }
  let awaited = false
  const awaitSteps = new Set<string>()
  const ready = (): After[] => {
    if (!awaited) {
      awaited = true
      for (const a of awaits) {
        const step = plan.add({ kind: 'await-service', service: a.service, condition: a.condition }, 'dependency condition')
        awaitSteps.add(step)
        prerequisites.push({ step, condition: 'done', ...(a.optional ? { optional: true } : {}) })
      }
    }
    return [...prerequisites]
  }

  const starts: string[] = []
  for (let n = 1; n <= replicas; n++) {
    const current = sorted.find((c) => number(c) === n)
    const reason = current ? recreateReason(current, hash, image.id, options, dependencyRecreated) : 'new'
    if (current && reason === undefined) {
      if (!current.running && !options.noStart) starts.push(plan.add({ kind: 'start-container', service: name, name: current.name }, 'stopped', ready()))
      continue
    }
    const nameN = containerName(project.name, service, n)
    const spec = containerSpec(project, service, n, image, nameN, { ...(options.scale ? { scale: options.scale } : {}), ...(current?.mounts ? { inherited: current.mounts } : {}) })
    for (const w of checkSupport(service, spec, options.capabilities)) if (n === 1) plan.warn(w)
    let after = ready()
    if (current) {
      ctx.recreated.add(name)
      const stop = plan.add({ kind: 'stop-container', service: name, name: current.name, id: current.id, ...stopTimeout(service, options) }, reason!)
      const remove = plan.add({ kind: 'remove-container', service: name, name: current.name, id: current.id }, reason!, [{ step: stop, condition: 'done' }])
      after = [...after, { step: remove, condition: 'done' }]
    }
    // Created in dependency order, started once the dependencies' conditions hold: a dependency
    // that turns unhealthy leaves this container created, as Compose leaves it.
    const createAfter = after.filter((a) => !awaitSteps.has(a.step)).map((a): After => ({ step: a.step, condition: 'done' }))
    const create = plan.add({ kind: 'create-container', service: name, number: n, name: nameN, spec }, reason ?? 'new', createAfter)
    if (!options.noStart) starts.push(plan.add({ kind: 'start-container', service: name, name: nameN }, reason ?? 'new', [{ step: create, condition: 'done' }, ...ready()]))
  }
  ctx.started.set(name, starts)

  // Scale down: the highest numbers go first.
  for (const extra of sorted.filter((c) => number(c) > replicas).reverse()) removeContainer(plan, extra, 'scale down', name, stopTimeout(service, options))
}

/**
 * Orphans as Compose counts them: containers of services no longer in the
 * project, and one-offs that have exited (a running one-off is in use, not
 * orphaned). Removed with --remove-orphans, else named in Compose's warning.
 */
function planOrphans(plan: PlanBuilder, project: Project, observed: ObservedState, options: { removeOrphans?: boolean; ignoreOrphans?: boolean }): void {
  const orphans = observed.containers.filter((c) => c.labels[LABEL.project] === project.name && isOrphan(project, c))
  if (orphans.length && options.removeOrphans) for (const o of orphans) removeContainer(plan, o, 'orphan', o.labels[LABEL.service], {})
  else if (orphans.length && !options.ignoreOrphans) plan.warn(orphanWarning(orphans))
}

const isOneOff = (c: ObservedContainer) => c.labels[LABEL.oneoff] === 'True'

function isOrphan(project: Project, c: ObservedContainer): boolean {
  if (isOneOff(c)) return c.state === 'exited' || c.state === 'dead'
  return !(c.labels[LABEL.service] in project.services) && !(c.labels[LABEL.service] in project.disabledServices)
}

/** Compose's words, so a script grepping for them finds them. */
function orphanWarning(orphans: ObservedContainer[]): string {
  return `Found orphan containers (${orphans.map((o) => o.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`
}

export interface RunPlanOptions {
  images: Record<string, Image>
  capabilities?: EngineCapabilities
  noDeps?: boolean
}

/**
 * `run SERVICE`: the service's dependencies brought up as `up` would, then
 * the conditions the service itself waits on (healthy, completed) as steps
 * of their own, so the one-off starts only once they hold; the service's
 * own networks and volumes are made. Its own replicas are left as they are.
 */
export function reconcileRun(project: Project, observed: ObservedState, service: string, options: RunPlanOptions): Plan {
  const graph = DependencyGraph.of(project)
  const dependencies = options.noDeps ? [] : graph.withDependencies([service]).filter((s) => s !== service)
  requireDonors(project, observed, [...dependencies, service])
  const plan = new PlanBuilder(project.name)
  const resources = planResources(plan, project, observed, [...dependencies, service])
  const byService = groupByService(observed.containers, project.name)
  const started = new Map<string, string[]>()
  const ctx: ServiceContext = { options: { images: options.images, ...(options.capabilities ? { capabilities: options.capabilities } : {}) }, resources, started, recreated: new Set() }
  for (const name of dependencies) planService(plan, project, name, graph.dependencies(name), byService.get(name) ?? [], ctx)
  if (!options.noDeps) {
    for (const edge of graph.dependencies(service)) {
      const condition = conditionOf(edge)
      if (condition === 'started') continue
      const after = (started.get(edge.to) ?? []).map((step): After => ({ step, condition: 'done' }))
      plan.add({ kind: 'await-service', service: edge.to, condition }, 'dependency condition', after)
    }
  }
  return plan.build()
}

export interface DownOptions {
  volumes?: boolean
  removeOrphans?: boolean
  /** `-t`: the stop grace period for every container, over the services' own. */
  stopTimeoutMs?: number
  /** `down SERVICE…`: only these services and what depends on them; their networks and volumes only when nothing else uses them. */
  services?: string[]
}

/**
 * `down`, as Compose v5 does it: the services' containers stopped (what
 * depends on a service before the service) and removed, then the networks
 * (and, with `volumes`, the volumes — named and anonymous). Works from what
 * the engine holds, whatever state it is in.
 *
 * One-offs (`run`) are left alone unless `removeOrphans`; with it, they go,
 * and so do the containers of services no longer in the project. A network
 * or volume that a container left behind still uses is kept, with one line
 * saying who uses it: Compose before v2.18 failed there ("has active
 * endpoints", docker/compose#10295), later ones warn "Resource is still in
 * use" (#10555) — pier names the container too.
 */
export function reconcileDown(project: Project, observed: ObservedState, options: DownOptions = {}): Plan {
  const plan = new PlanBuilder(project.name)
  const graph = DependencyGraph.of(project)
  const mine = observed.containers.filter((c) => c.labels[LABEL.project] === project.name)
  const scope = options.services?.length ? withDependents(graph, options.services) : undefined
  const inScope = (c: ObservedContainer) => (scope ? scope.includes(c.labels[LABEL.service]) : !isOrphan(project, c) || isOneOff(c))
  const targets = mine.filter((c) => (inScope(c) && (!isOneOff(c) || options.removeOrphans)) || (options.removeOrphans && isOrphan(project, c)))
  const stops = new Map<string, string[]>()
  const removes: string[] = []
  // Reverse start order: a service stops after everything that depends on it.
  const order = [...graph.startOrder()].reverse()
  const rank = (c: ObservedContainer) => order.indexOf(c.labels[LABEL.service])
  for (const c of [...targets].sort((a, b) => rank(a) - rank(b))) {
    const name = c.labels[LABEL.service]
    const service = project.services[name]
    const after = graph.services.includes(name) ? graph.dependents(name).flatMap((e) => (stops.get(e.from) ?? []).map((step): After => ({ step, condition: 'done' }))) : []
    const timeoutMs = options.stopTimeoutMs ?? service?.stop_grace_period
    const stop = plan.add({ kind: 'stop-container', service: name, name: c.name, id: c.id, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }, 'down', after)
    stops.set(name, [...(stops.get(name) ?? []), stop])
    removes.push(plan.add({ kind: 'remove-container', service: name, name: c.name, id: c.id, ...(options.volumes ? { volumes: true } : {}) }, 'down', [{ step: stop, condition: 'done' }]))
  }
  const afterRemoves = removes.map((step): After => ({ step, condition: 'done' }))
  const left = mine.filter((c) => !targets.includes(c))
  // With services named, only their networks and volumes are candidates, as Compose loads only what they use.
  const used = scope ? scope.map((s) => project.services[s]) : Object.values(project.services)
  const networkKeys = scope ? new Set(used.flatMap((s) => Object.keys(s.networks ?? {}))) : new Set(Object.keys(project.networks))
  for (const [key, network] of Object.entries(project.networks)) {
    if (network.external || !networkKeys.has(key) || !observed.networks.includes(network.name)) continue
    const users = left.filter((c) => Object.keys(project.services[c.labels[LABEL.service]]?.networks ?? {}).includes(key) || c.networks?.includes(network.name))
    if (users.length) plan.warn(stillInUse('Network', network.name, users))
    else plan.add({ kind: 'remove-network', name: network.name }, 'down', afterRemoves)
  }
  if (options.volumes) {
    const volumeKeys = scope ? new Set(used.flatMap((s) => s.volumes.flatMap((m) => (m.type === 'volume' && m.source ? [m.source] : [])))) : new Set(Object.keys(project.volumes))
    for (const [key, volume] of Object.entries(project.volumes)) {
      if (volume.external || !volumeKeys.has(key) || !observed.volumes.includes(volume.name)) continue
      const users = left.filter((c) => c.mounts?.some((m) => m.type === 'volume' && m.source === volume.name))
      if (users.length) plan.warn(stillInUse('Volume', volume.name, users))
      else plan.add({ kind: 'remove-volume', name: volume.name }, 'down', afterRemoves)
    }
  }
  const orphans = left.filter((c) => isOrphan(project, c))
  if (orphans.length) plan.warn(orphanWarning(orphans))
  return plan.build()
}

/** A network or volume down keeps: Compose's words, then who uses it and, for one-offs, how to remove them. */
function stillInUse(kind: string, name: string, users: ObservedContainer[]): string {
  const oneOffs = users.some(isOneOff)
  return `${kind} ${name}: Resource is still in use by ${users.map((c) => c.name).join(', ')}, so it is kept${oneOffs ? ' (one-offs go with "down --remove-orphans")' : ''}`
}

/** `services` and, transitively, the services that depend on them: what `down SERVICE` takes down, as Compose does. */
function withDependents(graph: DependencyGraph, services: string[]): string[] {
  const out = new Set(services)
  const visit = (s: string) => {
    for (const e of graph.dependents(s)) {
      if (!out.has(e.from)) {
        out.add(e.from)
        visit(e.from)
      }
    }
  }
  services.forEach(visit)
  return [...out]
}

function conditionOf(edge: Edge): Condition & ('started' | 'healthy' | 'completed') {
  return edge.condition === 'service_healthy' ? 'healthy' : edge.condition === 'service_completed_successfully' ? 'completed' : 'started'
}

function stopTimeout(service: Service, options: UpOptions): { timeoutMs?: number } {
  const timeoutMs = options.stopTimeoutMs ?? service.stop_grace_period
  return timeoutMs !== undefined ? { timeoutMs } : {}
}

function recreateReason(c: ObservedContainer, hash: string, image: string, options: UpOptions, dependencyRecreated: boolean): Reason | undefined {
  if (options.noRecreate) return undefined
  if (options.forceRecreate) return 'forced'
  if (c.labels[LABEL.configHash] !== hash) return 'config changed'
  if (c.labels[LABEL.image] && c.labels[LABEL.image] !== image) return 'image changed'
  if (dependencyRecreated) return 'dependency recreated'
  return undefined
}

function removeContainer(plan: PlanBuilder, c: ObservedContainer, reason: Reason, service: string, timeout: { timeoutMs?: number }): void {
  const stop = plan.add({ kind: 'stop-container', service, name: c.name, id: c.id, ...timeout }, reason)
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
  private readonly warnings: string[] = []

  constructor(private readonly project: string) {}

  add(action: Action, reason: Reason, after: After[] = []): string {
    const id = `${this.steps.length + 1}`
    this.steps.push({ id, action, reason, after })
    return id
  }

  warn(text: string): void {
    if (!this.warnings.includes(text)) this.warnings.push(text)
  }

  build(): Plan {
    return { project: this.project, steps: this.steps, warnings: this.warnings }
  }
}

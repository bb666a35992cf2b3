import type { DependencyCondition, Project, Service } from '../spec/project.js'
import { PlanError } from './errors.js'

export type EdgeKind = 'depends_on' | 'links' | 'volumes_from' | 'network_mode' | 'ipc' | 'pid'

/** `from` needs `to`: started first, and `condition` holding before `from` starts. */
export interface Edge {
  from: string
  to: string
  kind: EdgeKind
  condition: DependencyCondition
  /** depends_on `restart: true`: `from` is recreated when `to` is. */
  restart: boolean
  /** depends_on `required: false`: a failed condition is warned about, not fatal. */
  required: boolean
}

/**
 * The services of a project and what each needs before it can start:
 * depends_on (with its condition), links, volumes_from and the `service:`
 * forms of network_mode, ipc and pid. Orders are deterministic (ties broken
 * by name), so repeated runs plan the same way.
 */
export class DependencyGraph {
  readonly edges: Edge[]
  private readonly out = new Map<string, Edge[]>()
  private readonly incoming = new Map<string, Edge[]>()

  constructor(readonly services: string[], edges: Edge[]) {
    this.edges = edges
    for (const s of services) {
      this.out.set(s, [])
      this.incoming.set(s, [])
    }
    for (const e of edges) {
      this.out.get(e.from)?.push(e)
      this.incoming.get(e.to)?.push(e)
    }
    const cycle = this.findCycle()
    if (cycle) throw new PlanError('cycle', `dependency cycle: ${cycle.join(' -> ')}; remove one of these dependencies`)
  }

  static of(project: Project): DependencyGraph {
    const names = Object.keys(project.services).sort()
    const edges: Edge[] = []
    for (const name of names) edges.push(...edgesOf(project.services[name], project))
    return new DependencyGraph(names, edges)
  }

  /** What `service` needs. */
  dependencies(service: string): Edge[] {
    return this.out.get(service) ?? []
  }

  /** What needs `service`. */
  dependents(service: string): Edge[] {
    return this.incoming.get(service) ?? []
  }

  /** Services with everything they need first. */
  startOrder(): string[] {
    const order: string[] = []
    const done = new Set<string>()
    const visit = (s: string) => {
      if (done.has(s)) return
      done.add(s)
      for (const e of [...this.dependencies(s)].sort((a, b) => a.to.localeCompare(b.to))) visit(e.to)
      order.push(s)
    }
    for (const s of this.services) visit(s)
    return order
  }

  /** `services` and everything they need, transitively (`up web` starts web's dependencies too). */
  withDependencies(services: string[]): string[] {
    const out = new Set<string>()
    const visit = (s: string) => {
      if (out.has(s)) return
      out.add(s)
      for (const e of this.dependencies(s)) visit(e.to)
    }
    services.forEach(visit)
    return this.startOrder().filter((s) => out.has(s))
  }

  private findCycle(): string[] | undefined {
    const state = new Map<string, 'visiting' | 'done'>()
    const stack: string[] = []
    const visit = (s: string): string[] | undefined => {
      state.set(s, 'visiting')
      stack.push(s)
      for (const e of [...this.dependencies(s)].sort((a, b) => a.to.localeCompare(b.to))) {
        const seen = state.get(e.to)
        if (seen === 'visiting') return [...stack.slice(stack.indexOf(e.to)), e.to]
        if (seen === undefined) {
          const found = visit(e.to)
          if (found) return found
        }
      }
      stack.pop()
      state.set(s, 'done')
      return undefined
    }
    for (const s of this.services) {
      if (state.has(s)) continue
      const found = visit(s)
      if (found) return found
    }
    return undefined
  }
}

function edgesOf(service: Service, project: Project): Edge[] {
  const edges: Edge[] = []
  const add = (to: string, kind: EdgeKind, condition: DependencyCondition = 'service_started', restart = false, required = true) => {
    if (!(to in project.services) || to === service.name && kind !== 'depends_on') return
    const existing = edges.find((e) => e.to === to)
    // One edge per pair: the strictest condition wins, and so does restart.
    if (existing) {
      if (strength(condition) > strength(existing.condition)) existing.condition = condition
      existing.restart ||= restart
      existing.required ||= required
      return
    }
    edges.push({ from: service.name, to, kind, condition, restart, required })
  }
  for (const [to, dep] of Object.entries(service.depends_on)) add(to, 'depends_on', dep.condition, dep.restart ?? false, dep.required)
  for (const link of service.links ?? []) add(link.split(':')[0], 'links')
  for (const from of service.volumes_from ?? []) if (!from.startsWith('container:')) add(from.split(':')[0], 'volumes_from')
  for (const attr of ['network_mode', 'ipc', 'pid'] as const) {
    const value = service[attr]
    if (typeof value === 'string' && value.startsWith('service:')) add(value.slice(8), attr)
  }
  return edges
}

function strength(c: DependencyCondition): number {
  return c === 'service_started' ? 0 : 1
}

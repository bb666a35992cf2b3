import { LABEL } from '../labels.js'
import { DependencyGraph } from '../planner/graph.js'
import type { Project } from '../spec/project.js'
import type { SecretOrConfig, SwarmClient } from './api.js'
import { SwarmError } from './errors.js'
import { reconcileServices } from './reconcile.js'
import { localIpvs, meshRefusals, resolveImages, unsupportedFields } from './refuse.js'
import { fileSpec, networkSpec, projectLabels, serviceSpec, type Refs } from './translate.js'
import { waitConverged } from './wait.js'

export interface UpOptions {
  /** Wait for every service to converge (all tasks running, healthy where a healthcheck is set). */
  wait?: boolean
  /** How long a dependency, or --wait, may take; default 5 minutes. */
  timeoutMs?: number
  /** Whether the swarm's nodes lack IPVS; default: this machine's kernel is asked when the manager is local. */
  ipvs?: boolean
  /** One line per change made ("service web: updated"). */
  onEvent?: (line: string) => void
}

export interface UpResult {
  created: string[]
  updated: string[]
  unchanged: string[]
  removed: string[]
}

/**
 * `up -d` on Swarm: refuse what Swarm cannot run (before anything is made),
 * then networks, secrets and configs, then the services in depends_on order —
 * each one created or updated only when it waits on nothing, that is when
 * the services it depends on run (healthy, for service_healthy) — then
 * services the project no longer has, and secrets and configs no service uses.
 */
export async function up(swarm: SwarmClient, project: Project, options: UpOptions = {}): Promise<UpResult> {
  const timeoutMs = options.timeoutMs ?? 300_000
  const say = options.onEvent ?? (() => {})
  const ipvs = options.ipvs ?? (onThisMachine(swarm) ? localIpvs() : true)
  const refusals = [...unsupportedFields(project), ...meshRefusals(project, ipvs)]
  if (refusals.length) throw new SwarmError(refusals.join('\n'))
  const graph = DependencyGraph.of(project)
  const images = await resolveImages(swarm, project)

  await ensureNetworks(swarm, project, say)
  const refs: Refs = { images, secrets: await ensureFiles(swarm, project, 'secrets', say), configs: await ensureFiles(swarm, project, 'configs', say) }

  const wanted = Object.values(project.services).map((s) => serviceSpec(project, s, refs))
  const changes = reconcileServices(wanted, await swarm.services(projectLabels(project)))
  const current = new Map(changes.update.map((u) => [u.spec.Name, u.current]))
  const touched = new Set([...changes.create, ...changes.update.map((u) => u.spec)].map((s) => s.Name))
  const result: UpResult = { created: [], updated: [], unchanged: changes.unchanged.map((s) => s.Spec.Labels[LABEL.service] ?? s.Spec.Name), removed: [] }

  // A promise per service, settled once it is deployed and ready; dependents await their dependencies' promises.
  const ready = new Map<string, Promise<void>>()
  const deploy = (name: string): Promise<void> => {
    let p = ready.get(name)
    if (p) return p
    p = (async () => {
      await Promise.all(graph.dependencies(name).filter((e) => project.services[e.to]).map((e) => deploy(e.to)))
      const spec = wanted.find((s) => s.Labels[LABEL.service] === name)!
      if (touched.has(spec.Name)) {
        const before = current.get(spec.Name)
        if (before) {
          await swarm.updateService(before, spec)
          result.updated.push(name)
          say(`service ${name}: updated`)
        } else {
          await swarm.createService(spec)
          result.created.push(name)
          say(`service ${name}: created`)
        }
      }
      // Only what something waits on is waited for here; --wait waits for the rest after.
      if (graph.dependents(name).length > 0 || options.wait) await waitConverged(swarm, project.name, spec.Name, timeoutMs)
    })()
    ready.set(name, p)
    return p
  }
  await Promise.all(Object.keys(project.services).map(deploy))

  for (const s of changes.remove) {
    await swarm.removeService(s)
    result.removed.push(s.Spec.Labels[LABEL.service] ?? s.Spec.Name)
    say(`service ${s.Spec.Labels[LABEL.service] ?? s.Spec.Name}: removed`)
  }
  await removeUnusedFiles(swarm, project, refs)
  return result
}

/** The project's overlay networks, made when missing; an external one must exist and be swarm-scoped. */
async function ensureNetworks(swarm: SwarmClient, project: Project, say: (line: string) => void): Promise<void> {
  const used = new Set(Object.values(project.services).flatMap((s) => Object.keys(s.networks ?? {})))
  for (const key of [...used].sort()) {
    const n = project.networks[key]
    if (!n) continue
    const existing = await swarm.networkNamed(n.name)
    if (existing && existing.Scope !== 'swarm') throw new SwarmError(`network ${n.name} exists on the manager as a ${existing.Scope}-scoped network: Swarm services need an overlay network; remove it or rename the project's`)
    if (existing) continue
    if (n.external) throw new SwarmError(`network ${n.name} is declared external but does not exist: create it with \`docker network create -d overlay ${n.name}\``)
    await swarm.createNetwork(networkSpec(project, key))
    say(`network ${n.name}: created`)
  }
}

/** The secrets or configs the services use, made when missing (their names carry their content's digest). */
async function ensureFiles(swarm: SwarmClient, project: Project, kind: SecretOrConfig, say: (line: string) => void): Promise<Record<string, { id: string; name: string }>> {
  const used = new Set(Object.values(project.services).flatMap((s) => (s[kind] ?? []).map((r) => r.source)))
  const out: Record<string, { id: string; name: string }> = {}
  const existing = await swarm.files(kind, {})
  for (const key of [...used].sort()) {
    const f = project[kind][key]
    if (!f) throw new SwarmError(`${kind.slice(0, -1)} ${key} is used but not declared at the top level`)
    if (f.external) {
      const found = existing.find((e) => e.Spec.Name === f.name)
      if (!found) throw new SwarmError(`${kind.slice(0, -1)} ${f.name} is declared external but the swarm has none: create it with \`docker ${kind.slice(0, -1)} create\``)
      out[key] = { id: found.ID, name: f.name }
      continue
    }
    const spec = fileSpec(project, kind, key)
    const found = existing.find((e) => e.Spec.Name === spec.Name)
    out[key] = { id: found?.ID ?? (await swarm.createFile(kind, spec)), name: spec.Name }
    if (!found) say(`${kind.slice(0, -1)} ${spec.Name}: created`)
  }
  return out
}

/** Older versions of the project's secrets and configs, once no service uses them; one still held by a stopping task is left for the next up. */
async function removeUnusedFiles(swarm: SwarmClient, project: Project, refs: Refs): Promise<void> {
  for (const kind of ['secrets', 'configs'] as const) {
    const keep = new Set(Object.values(refs[kind]).map((r) => r.id))
    for (const f of await swarm.files(kind, { label: [`${LABEL.project}=${project.name}`] })) {
      if (keep.has(f.ID)) continue
      await swarm.removeFile(kind, f.ID, f.Spec.Name).catch(() => {})
    }
  }
}

/** Whether the manager is on this machine (a unix socket or a loopback address), so this kernel is one of its nodes'. */
function onThisMachine(swarm: SwarmClient): boolean {
  const { socketPath, host } = swarm.docker.endpoint
  return !!socketPath || host === 'localhost' || !!host?.startsWith('127.')
}

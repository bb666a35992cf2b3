import { LABEL } from '../labels.js'
import type { SwarmClient } from './api.js'

/** One task of a project's service, as `ps` shows it. */
export interface TaskRow {
  id: string
  /** SERVICE.SLOT for a replicated service, SERVICE.NODE for a global one (Swarm's own task names). */
  name: string
  service: string
  image: string
  node: string
  desiredState: string
  state: string
  since: string
  error: string
  ports: string
}

/** The tasks of the project's services (those still meant to run; all with `all`), by service and slot. */
export async function ps(swarm: SwarmClient, project: string, options: { services?: string[]; all?: boolean } = {}): Promise<TaskRow[]> {
  const services = (await swarm.services({ [LABEL.project]: project })).filter((s) => !options.services?.length || options.services.includes(s.Spec.Labels[LABEL.service]))
  if (services.length === 0) return []
  const nodes = new Map((await swarm.nodes()).map((n) => [n.ID, n.Description.Hostname]))
  const byId = new Map(services.map((s) => [s.ID, s]))
  const tasks = await swarm.tasks({ service: services.map((s) => s.ID), ...(options.all ? {} : { 'desired-state': ['running'] }) })
  return tasks
    .map((t) => {
      const service = byId.get(t.ServiceID)!
      const name = service.Spec.Labels[LABEL.service] ?? service.Spec.Name
      return {
        id: t.ID,
        name: `${name}.${t.Slot ?? t.NodeID}`,
        service: name,
        image: t.Spec.ContainerSpec.Image.replace(/@sha256:[0-9a-f]+$/, ''),
        node: t.NodeID ? nodes.get(t.NodeID) ?? t.NodeID.slice(0, 12) : '',
        desiredState: t.DesiredState,
        state: t.Status.State,
        since: t.Status.Timestamp,
        error: t.Status.Err ?? '',
        ports: (t.Status.PortStatus?.Ports ?? []).map((p) => `*:${p.PublishedPort}->${p.TargetPort}/${p.Protocol}`).join(', '),
      }
    })
    .sort((a, b) => (a.service === b.service ? a.name.localeCompare(b.name, undefined, { numeric: true }) || (a.since < b.since ? 1 : -1) : a.service < b.service ? -1 : 1))
}

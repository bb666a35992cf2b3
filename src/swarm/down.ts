import { LABEL } from '../labels.js'
import type { SwarmClient } from './api.js'
import { SwarmError } from './errors.js'

export interface DownOptions {
  /** How long the nodes may take to stop the tasks and free the networks; default 2 minutes. */
  timeoutMs?: number
  onEvent?: (line: string) => void
}

/**
 * `down` on Swarm: the project's services, then — once every node has
 * stopped their tasks, which frees the networks — its networks, secrets and
 * configs. Named volumes live on each node that ran a task and stay there,
 * as with `docker stack rm`. Returns how many objects were removed.
 */
export async function down(swarm: SwarmClient, project: string, options: DownOptions = {}): Promise<number> {
  const say = options.onEvent ?? (() => {})
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  const labels = { [LABEL.project]: project }
  let removed = 0
  const services = await swarm.services(labels)
  for (const s of services) {
    await swarm.removeService(s)
    removed++
    say(`service ${s.Spec.Labels[LABEL.service] ?? s.Spec.Name}: removed`)
  }
  // A removed service's tasks stay listed until their node has stopped and removed their containers (which hold
  // the networks); waiting for the list to empty is waiting for every node to be clean. (Filtering tasks by a
  // removed service's ID is refused, so all tasks are listed and picked here.)
  const ids = new Set(services.map((s) => s.ID))
  while (services.length && (await swarm.tasks({})).some((t) => ids.has(t.ServiceID))) {
    if (Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, 300))
  }
  for (const n of await swarm.networks(labels)) {
    // A node may still be detaching its last container: retry while the network is in use.
    for (;;) {
      try {
        await swarm.removeNetwork(n.Id, n.Name)
        break
      } catch (e) {
        if (Date.now() > deadline) throw new SwarmError(`network ${n.Name} is still in use after the services were removed: ${(e as Error).message}`)
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    removed++
    say(`network ${n.Name}: removed`)
  }
  for (const kind of ['secrets', 'configs'] as const) {
    for (const f of await swarm.files(kind, { label: [`${LABEL.project}=${project}`] })) {
      for (;;) {
        try {
          await swarm.removeFile(kind, f.ID, f.Spec.Name)
          break
        } catch (e) {
          if (Date.now() > deadline) throw new SwarmError(`${kind.slice(0, -1)} ${f.Spec.Name} is still in use: ${(e as Error).message}`)
          await new Promise((r) => setTimeout(r, 500))
        }
      }
      removed++
      say(`${kind.slice(0, -1)} ${f.Spec.Name}: removed`)
    }
  }
  return removed
}

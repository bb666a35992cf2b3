import { LABEL } from '../labels.js'
import type { Service, SwarmClient, Task } from './api.js'
import { SwarmError } from './errors.js'
import { TASK_HASH } from './translate.js'

/**
 * Waiting for a service to converge: its rolling update over, and as many
 * tasks of its current version running as it has replicas (every eligible
 * node's, for a global service). Swarm reports a task with a healthcheck as
 * running only once it is healthy, so "running" here means healthy where a
 * healthcheck is set — what depends_on service_healthy and --wait ask for.
 */

const POLL_MS = 300

export async function waitConverged(swarm: SwarmClient, project: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const [service] = (await swarm.services({ [LABEL.project]: project })).filter((s) => s.Spec.Name === name)
    if (!service) throw new SwarmError(`service ${name} was removed while pier waited for it`)
    const tasks = await swarm.tasks({ service: [service.ID] })
    const state = converged(service, tasks)
    if (state === true) return
    last = state
    if (Date.now() > deadline) throw new SwarmError(`service ${name} did not converge within ${Math.round(timeoutMs / 1000)} s: ${last}`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

/** true, or why not yet (the newest task error, when there is one). A failed rollback or a paused update is an error. */
export function converged(service: Service, tasks: Task[]): true | string {
  const update = service.UpdateStatus?.State
  if (update === 'paused' || update === 'rollback_paused') throw new SwarmError(`service ${service.Spec.Name}: its update was paused: ${service.UpdateStatus?.Message ?? 'a task failed'}`)
  if (update === 'rollback_completed') throw new SwarmError(`service ${service.Spec.Name}: its update failed and was rolled back: ${service.UpdateStatus?.Message ?? ''}`.trim())
  const hash = service.Spec.TaskTemplate.ContainerSpec.Labels?.[TASK_HASH]
  const current = tasks.filter((t) => t.DesiredState === 'running' && (t.Spec.ContainerSpec as { Labels?: Record<string, string> }).Labels?.[TASK_HASH] === hash)
  const running = current.filter((t) => t.Status.State === 'running').length
  const mode = service.Spec.Mode
  const wanted = 'Replicated' in mode ? mode.Replicated.Replicas : Math.max(1, current.length)
  if (update !== 'updating' && update !== 'rollback_started' && running >= wanted) return true
  const failed = tasks.filter((t) => t.Status.Err).sort((a, b) => (a.Status.Timestamp < b.Status.Timestamp ? 1 : -1))[0]
  return `${running} of ${wanted} tasks running${update ? `, update ${update}` : ''}${failed ? ` (last error: ${failed.Status.Err})` : ''}`
}

import type { Container } from '../engine/engine.js'
import { EngineError } from '../engine/errors.js'
import { abortError } from '../errors.js'
import { LABEL } from '../labels.js'
import { failureOf } from '../planner/execute.js'
import type { Context } from './context.js'

/**
 * `up --wait`: until every container of `services` that was started runs —
 * and is healthy, when it has a healthcheck — or, for one that exits, exited
 * 0. One-offs are not the project's services and are left out, and so are
 * containers never started (`--no-start`). A failure ends the wait at once,
 * naming the container and why.
 */
export async function waitForServices(ctx: Context, project: string, services: string[], timeoutMs: number): Promise<Container[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (ctx.signal?.aborted) throw abortError(ctx.signal)
    const containers = (await ctx.engine.listContainers({ [LABEL.project]: project, [LABEL.oneoff]: 'False' }, { all: true })).filter((c) => services.includes(c.labels[LABEL.service]) && c.state !== 'created')
    const failed = containers.find((c) => c.health === 'unhealthy' || c.state === 'restarting' || ((c.state === 'exited' || c.state === 'dead') && c.exitCode !== undefined && c.exitCode !== 0))
    if (failed) throw new EngineError('runtime', failureOf(failed)!)
    const ready = (c: Container) => (c.state === 'exited' && c.exitCode !== undefined) || (c.state === 'running' && (!c.health || c.health === 'healthy'))
    if (containers.every(ready)) return containers
    if (Date.now() > deadline) throw new EngineError('runtime', `application not healthy after ${Math.round(timeoutMs / 1000)}s: ${containers.filter((c) => !ready(c)).map((c) => `${c.name} is ${c.health ?? c.state}`).join(', ')}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

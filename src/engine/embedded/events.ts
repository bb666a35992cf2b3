import type { Container, EngineEvent, Labels } from '../engine.js'

/**
 * Events without a daemon to emit them: the containers' states are read
 * every `intervalMs` and each change becomes the event Docker would have
 * sent (create, start, health_status, pause, unpause, die, destroy). So an
 * event is seen within the interval, from changes made by any pier process
 * or by a container's monitor.
 */
export async function* pollEvents(list: () => Promise<Container[]>, labels: Labels, intervalMs = 250, signal?: AbortSignal): AsyncIterable<EngineEvent> {
  let known = new Map((await list()).map((c) => [c.id, c]))
  while (!signal?.aborted) {
    await new Promise((r) => setTimeout(r, intervalMs))
    const now = new Map((await list()).map((c) => [c.id, c]))
    const time = new Date().toISOString()
    const event = (c: Container, action: string, extra: Labels = {}): EngineEvent => ({ time, type: 'container', action, id: c.id, labels: { ...c.labels, name: c.name, image: c.image, ...extra } })
    const out: EngineEvent[] = []
    for (const [id, c] of now) {
      const before = known.get(id)
      if (!before) {
        out.push(event(c, 'create'))
        if (c.state === 'running') out.push(event(c, 'start'))
        continue
      }
      if (before.startedAt !== c.startedAt && c.startedAt && c.state !== 'exited') out.push(event(c, 'start'))
      if (before.state !== 'paused' && c.state === 'paused') out.push(event(c, 'pause'))
      if (before.state === 'paused' && c.state === 'running') out.push(event(c, 'unpause'))
      if (before.finishedAt !== c.finishedAt && c.finishedAt && c.state === 'exited') out.push(event(c, 'die', { exitCode: String(c.exitCode ?? 0) }))
      if (c.health && before.health !== c.health) out.push(event(c, `health_status: ${c.health}`))
    }
    for (const [id, c] of known) if (!now.has(id)) out.push(event(c, 'destroy'))
    known = now
    for (const e of out) if (Object.entries(labels).every(([k, v]) => e.labels[k] === v)) yield e
  }
}

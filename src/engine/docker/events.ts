import type { EngineEvent, Labels } from '../engine.js'
import { type DockerClient, jsonLines, labelFilter } from './client.js'

interface Message {
  Type: string
  Action: string
  Actor: { ID: string; Attributes?: Record<string, string> }
  time: number
  timeNano?: number
}

const TYPES = new Set(['container', 'network', 'volume', 'image'])

/**
 * GET /events filtered by label, from now on, for as long as the caller
 * iterates: leaving the loop closes the connection. The labels of an event
 * are the actor's attributes (Docker puts a container's labels there, with
 * name, image and exitCode).
 */
export async function* dockerEvents(client: DockerClient, labels: Labels): AsyncIterable<EngineEvent> {
  const res = await client.request('GET', '/events', { query: { filters: labelFilter(labels) }, stream: true })
  try {
    for await (const m of jsonLines<Message>(res)) {
      if (!TYPES.has(m.Type)) continue
      const time = m.timeNano ? new Date(Math.floor(m.timeNano / 1e6)).toISOString() : new Date(m.time * 1000).toISOString()
      // Podman 4 says `remove` where Docker says `destroy`; pier waits on Docker's names.
      const action = m.Type === 'container' && m.Action === 'remove' ? 'destroy' : m.Action
      yield { time, type: m.Type as EngineEvent['type'], action, id: m.Actor.ID, labels: m.Actor.Attributes ?? {} }
    }
  } finally {
    res.destroy()
  }
}

import { demux, lines, raw } from '../engine/docker/streams.js'
import { LABEL } from '../labels.js'
import type { SwarmClient } from './api.js'

export interface LogLine {
  service: string
  stream: 'stdout' | 'stderr'
  text: string
}

/**
 * The project's services' logs, merged as they come (every node's tasks,
 * gathered by the manager). `follow` keeps them open until `signal` aborts.
 */
export async function logs(swarm: SwarmClient, project: string, onLine: (line: LogLine) => void, options: { services?: string[]; follow?: boolean; tail?: number; timestamps?: boolean; since?: string; signal?: AbortSignal } = {}): Promise<void> {
  const services = (await swarm.services({ [LABEL.project]: project })).filter((s) => !options.services?.length || options.services.includes(s.Spec.Labels[LABEL.service]))
  await Promise.all(
    services.map(async (s) => {
      const res = await swarm.logs(s, {
        follow: options.follow,
        timestamps: options.timestamps,
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
        ...(options.since ? { since: Math.floor(new Date(options.since).getTime() / 1000) } : {}),
      })
      options.signal?.addEventListener('abort', () => res.destroy(), { once: true })
      const frames = s.Spec.TaskTemplate.ContainerSpec.TTY ? raw(res) : demux(res)
      try {
        for await (const l of lines(frames)) onLine({ service: s.Spec.Labels[LABEL.service] ?? s.Spec.Name, stream: l.stream, text: l.text })
      } catch (e) {
        if (!options.signal?.aborted) throw e
      }
    }),
  )
}

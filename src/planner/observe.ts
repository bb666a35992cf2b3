import type { Engine } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { ObservedState } from './reconcile.js'

/**
 * One snapshot of everything the engine holds for a project, read back from
 * Compose's labels; taken once per command, so a plan is made from one
 * consistent view. An engine that cannot list fails the command: "cannot
 * see" is never taken for "nothing exists".
 */
export async function observe(engine: Engine, project: string): Promise<ObservedState> {
  const labels = { [LABEL.project]: project }
  const [containers, volumes, networks] = await Promise.all([engine.listContainers(labels, { all: true }), engine.listVolumes({}), engine.listNetworks({})])
  return {
    containers: containers.map((c) => ({ id: c.id, name: c.name, labels: c.labels, running: c.state === 'running' || c.state === 'paused' || c.state === 'restarting', mounts: c.mounts, state: c.state, networks: Object.keys(c.addresses ?? {}) })),
    volumes: volumes.map((v) => v.name),
    networks: networks.map((n) => n.name),
  }
}

/**
 * The reaper's own process (see reaper.ts): reads registrations from its
 * stdin until the test process that started it is gone (end of the pipe),
 * then removes every container (with its anonymous volumes), network and
 * volume labelled with a project still registered. Started detached, in a
 * session of its own, so a signal to the test's process group spares it.
 */
import { createInterface } from 'node:readline'
import { openEngine, type EngineName } from '../engine/index.js'
import { LABEL } from '../labels.js'
import type { ReaperTarget } from './reaper.js'

const live = new Map<string, ReaperTarget>()

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  try {
    const message = JSON.parse(line) as { op: string } & ReaperTarget
    if (message.op === 'register') live.set(message.project, { project: message.project, engine: message.engine, root: message.root })
    else if (message.op === 'release') live.delete(message.project)
  } catch {
    // a torn line from a dying writer: nothing to act on
  }
})
lines.on('close', () => void reap().finally(() => process.exit(0)))

async function reap(): Promise<void> {
  for (const target of live.values()) {
    try {
      const engine = await openEngine(target.engine as EngineName, target.engine === 'embedded' ? { root: target.root } : {})
      const labels = { [LABEL.project]: target.project }
      const containers = await engine.listContainers(labels, { all: true })
      await Promise.all(containers.map((c) => engine.remove(c.id, { force: true, volumes: true }).catch(() => undefined)))
      for (const n of await engine.listNetworks(labels)) await engine.removeNetwork(n.name).catch(() => undefined)
      for (const v of await engine.listVolumes(labels)) await engine.removeVolume(v.name).catch(() => undefined)
      await engine.close()
    } catch {
      // the next target may still be reachable
    }
  }
}

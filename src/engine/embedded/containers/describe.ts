import type { Container } from '../../engine.js'
import type { ContainerNetworking } from '../../../network/attach.js'
import { monitorAlive, monitorLost, processStatus, runState, settledState, sleep } from './liveness.js'
import type { Runtime } from './runtime.js'
import { files, readJson, type ContainerRecord } from './state.js'

/**
 * A container as the engine reports it. Whether a running one is paused or
 * has just ended comes from /proc and its cgroup when they tell; else from
 * `runtimeStatus` (a listing's one runtime call, made only when first
 * needed) or the runtime's state of this container.
 */
export async function describe(runtime: Runtime, dir: string, record: ContainerRecord, runtimeStatus?: () => Promise<string | undefined>): Promise<Container> {
  let state = await settledState(dir)
  const networking = await readJson<ContainerNetworking>(files(dir).network)
  let status: Container['state'] = state.status
  // Its monitor was killed: whatever the process does, nothing watches it (no log, health, restart). `dead` until a start recovers it.
  if (monitorLost(state)) status = 'dead'
  else if (status === 'running') {
    const rt = (state.pid ? processStatus(state.pid, record.id) : undefined) ?? (runtimeStatus ? await runtimeStatus() : (await runtime.state(record.id))?.status) ?? 'unknown'
    if (rt === 'paused') status = 'paused'
    else if (rt === 'unknown' || rt === 'stopped') {
      // The process has ended and its monitor is recording it: its next write has the exit code (or the restart).
      for (let i = 0; i < 200 && state.status === 'running' && monitorAlive(state); i++) {
        await sleep(10)
        state = await runState(dir)
      }
      status = state.status === 'running' ? 'exited' : state.status
    }
  }
  return {
    id: record.id,
    name: record.name,
    image: record.image,
    labels: record.spec.labels,
    mounts: record.spec.mounts.map((m) => ({
      type: m.type,
      source: m.type === 'tmpfs' ? '' : m.source,
      target: m.target,
      readOnly: m.type === 'file' || (m.type !== 'tmpfs' && m.readOnly),
      ...(m.type === 'volume' && record.anonymousVolumes.includes(m.source) ? { anonymous: true } : {}),
    })),
    state: status,
    ...(state.health && status !== 'dead' ? { health: state.health } : {}),
    ...(state.exitCode !== undefined ? { exitCode: state.exitCode } : {}),
    createdAt: record.createdAt,
    ...(state.startedAt ? { startedAt: state.startedAt } : {}),
    ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}),
    ports: status === 'running' || status === 'paused' || status === 'restarting' ? (state.ports ?? []) : [],
    exposedPorts: record.spec.expose ?? [],
    addresses: Object.fromEntries((networking?.interfaces ?? []).map((i) => [i.network, i.address])),
    command: record.spec.argv,
  }
}


import { readFileSync, watch, type FSWatcher } from 'node:fs'
import type { Runtime } from './runtime.js'
import { files, readJsonSync, type ContainerRunState } from './state.js'

/** What the monitor last wrote for the container in `dir`; a container never started has no state yet. */
export async function runState(dir: string): Promise<ContainerRunState> {
  return readStateSync(dir)
}

/**
 * Whether the container's process runs. Its pid (from the monitor's state)
 * is checked in /proc — alive, and in the container's own cgroup, so a
 * reused pid is not taken for it — which costs a file read where asking
 * the runtime costs a process (that, over 30 containers stopping, was most
 * of `down`). Without a pid on record, and without a recorded end, the runtime is asked.
 */
export async function isRunning(runtime: Runtime, dir: string, id: string): Promise<boolean> {
  const state = await runState(dir)
  if (state.pid) return ownProcess(state.pid, id)
  // Its monitor recorded the end and is done with it: the runtime's run has
  // returned, nothing of it runs (asking runc was a process per container of a `down`).
  if (state.status === 'exited' && state.finishedAt && !monitorAlive(state)) return false
  const rt = await runtime.state(id)
  return !!rt && rt.status !== 'stopped'
}

/**
 * Waits for the container's process to end. It watches the process itself
 * (a signal 0 and its /proc state, free) rather than asking the runtime
 * every few milliseconds, which costs a process each time and, with many
 * containers stopping at once, the CPU the stops need.
 */
export async function waitExited(runtime: Runtime, dir: string, id: string, timeoutMs: number): Promise<boolean> {
  const pid = (await runState(dir)).pid
  const deadline = Date.now() + timeoutMs
  if (pid) {
    while (Date.now() < deadline && processLives(pid)) await sleep(10)
    if (!processLives(pid)) return true
  }
  while (Date.now() < deadline) {
    if (!(await isRunning(runtime, dir, id))) return true
    await sleep(20)
  }
  return !(await isRunning(runtime, dir, id))
}

/**
 * Waits for the monitor to be done with a container: its last write
 * clears monitorPid (the monitor itself may go on serving others).
 */
export async function waitMonitor(dir: string, timeoutMs: number): Promise<void> {
  await untilState(dir, (state) => !monitorAlive(state), timeoutMs)
}

/**
 * Waits until the container's state.json satisfies `settled`: the state it
 * reached, or undefined after `timeoutMs`. The monitor replaces state.json
 * by a rename, which inotify reports on the directory, so the file is read
 * again when it changes rather than every 10 ms: thirty starts of an `up`
 * polling their states read state.json ~5,400 times (~0.3 s of pier's main
 * thread, bench/RESULTS.md). A slow poll still runs beside the watch, for
 * what no write announces (a monitor that died) and a watch that cannot be set.
 */
export function untilState(dir: string, settled: (state: ContainerRunState) => boolean, timeoutMs: number, pollMs = 50): Promise<ContainerRunState | undefined> {
  const read = (): ContainerRunState => readStateSync(dir)
  const first = read()
  if (settled(first)) return Promise.resolve(first)
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined
    const finish = (state: ContainerRunState | undefined) => {
      clearInterval(poll)
      clearTimeout(deadline)
      watcher?.close()
      resolve(state)
    }
    const check = () => {
      const state = read()
      if (settled(state)) finish(state)
    }
    const poll = setInterval(check, pollMs)
    const deadline = setTimeout(() => finish(undefined), timeoutMs)
    try {
      // Only state.json's own replacement counts: a container's log grows in the same directory.
      watcher = watch(dir, (_event, name) => {
        if (!name || name.toString() === 'state.json') check()
      })
      watcher.on('error', () => undefined)
    } catch {
      // No watch (the directory went, or no inotify instances left): the poll alone.
    }
    // A write between the first read and the watch: read once more now that the watch is set.
    check()
  })
}

function readStateSync(dir: string): ContainerRunState {
  return readJsonSync<ContainerRunState>(files(dir).state) ?? { status: 'created', restartCount: 0 }
}

/**
 * Whether a monitor still serves this container: it has not written its last
 * state (which clears monitorPid), and it lives. A zombie does not count: a
 * monitor whose pier has exited is reaped by the host's init, which may take
 * a second or two on some hosts.
 */
export function monitorAlive(state: ContainerRunState): boolean {
  return state.monitorPid !== undefined && processLives(state.monitorPid)
}

/**
 * Whether the monitor that state.json names died without its last write
 * (killed; on a state from settledState): then nothing will ever record the container's exit, restart it
 * or run its healthcheck, and what state.json says is stale.
 */
export function monitorLost(state: ContainerRunState): boolean {
  return (state.status === 'running' || state.status === 'restarting') && state.monitorPid !== undefined && !processLives(state.monitorPid)
}

/**
 * What state.json says, read again when it names a monitor found dead: the
 * monitor's last write comes before it exits, so a state read after seeing
 * it dead is its final one, or the monitor was killed (monitorLost). Read
 * once only, the state could predate a last write that has happened since.
 */
export async function settledState(dir: string): Promise<ContainerRunState> {
  const state = await runState(dir)
  return monitorLost(state) ? runState(dir) : state
}

/** Whether `pid` is a live process of container `id` (its cgroup path names the container). */
export function ownProcess(pid: number, id: string): boolean {
  if (!processLives(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${id}`)
  } catch {
    return false
  }
}

/**
 * What the runtime would say of container `id` whose process is `pid`, read
 * from /proc and the freezer cgroup: `runc list` costs a process (~30 ms of
 * every `ps` and no-op `up`) to learn the same. Undefined when this host's
 * cgroups do not tell (no freezer in the layout read), for the runtime to answer.
 */
export function processStatus(pid: number, id: string): 'running' | 'paused' | 'stopped' | undefined {
  if (!processLives(pid)) return 'stopped'
  let cgroups: string
  try {
    cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
  } catch {
    return 'stopped'
  }
  // A reused pid: the process is someone else's.
  if (!cgroups.includes(`/${id}`)) return 'stopped'
  // cgroup v1 (and hybrid hosts): the freezer hierarchy says FROZEN while paused (FREEZING on the way); v2: cgroup.freeze is 1.
  const v1 = /^\d+:(?:[^:\n]*,)?freezer(?:,[^:\n]*)?:(.*)$/m.exec(cgroups)
  const v2 = v1 ? undefined : /^0::(.*)$/m.exec(cgroups)
  try {
    if (v1) return readFileSync(`/sys/fs/cgroup/freezer${v1[1]}/freezer.state`, 'utf8').startsWith('THAWED') ? 'running' : 'paused'
    if (v2) return readFileSync(`/sys/fs/cgroup${v2[1]}/cgroup.freeze`, 'utf8').trim() === '0' ? 'running' : 'paused'
  } catch {
    // Not where this layout puts it: the runtime knows.
  }
  return undefined
}

/** Whether a process runs (not gone, not a zombie waiting to be reaped). */
export function processLives(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

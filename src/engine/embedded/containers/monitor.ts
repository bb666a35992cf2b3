/**
 * The container monitor: a small detached process that outlives pier. Each
 * pier process starts at most one, lazily, and hands it the containers it
 * starts, one directory per line on the monitor's stdin. For each, the
 * monitor runs it in the OCI runtime (`runc run`), holds its stdout and
 * stderr and appends them to its log, publishes its ports, records its exit
 * code, runs its healthcheck and applies its restart policy; it is the only
 * writer of that container's state.json, and its last write for a container
 * clears `monitorPid`. When pier has gone (stdin closed) and its last
 * container is done, the monitor exits.
 *
 * Why one per pier process, not one per container: a Node process costs
 * about 70 ms of CPU to start and 35 MB, which for 30 containers on two
 * cores was most of `up` (bench/RESULTS.md).
 *
 * Why not conmon: conmon holds stdio and records exit codes, but runs no
 * healthcheck and applies no restart policy (Podman leaves those to systemd),
 * and pier must keep both going without a daemon. See the README.
 *
 * Usage: node monitor.js <runtime> <runtime-state-dir>, container dirs on stdin.
 */
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import type { Healthcheck } from '../../engine.js'
import type { ContainerNetworking } from '../../../network/attach.js'
import { NameServers } from '../../../network/dns.js'
import { publish, PublishError, type Publication } from '../../../network/proxy.js'
import { files, readJson, underTerminal, writeJson, type ContainerRecord, type ContainerRunState } from './state.js'

const [runtime, runtimeRoot] = process.argv.slice(2)

let active = 0
let inputClosed = false
/** DNS on the gateways of the networks of the containers this monitor runs (network/dns.ts); made at the first container. */
let nameServers: NameServers | undefined

function exitWhenIdle(): void {
  // Pending healthcheck timers may remain; the work is done.
  if (inputClosed && active === 0) process.exit(0)
}

const input = createInterface({ input: process.stdin })
input.on('line', (line) => {
  const dir = line.trim()
  if (!dir) return
  active++
  supervise(dir)
    .catch((err) => appendFileSync(`${dir}/monitor.err`, `${(err as Error)?.stack ?? err}\n`))
    .finally(() => {
      active--
      exitWhenIdle()
    })
})
input.on('close', () => {
  inputClosed = true
  exitWhenIdle()
})

/** One container, from its first start to its last exit (restarts included). */
async function supervise(dir: string): Promise<void> {
  const f = files(dir)
  const record = (await readJson<ContainerRecord>(f.record))!
  let state: ContainerRunState = { ...((await readJson<ContainerRunState>(f.state)) ?? { status: 'created', restartCount: 0 }), monitorPid: process.pid }
  const save = async (change: Partial<ContainerRunState>) => {
    state = { ...state, ...change }
    // The container may be removed while its last probe runs: then there is nothing left to record.
    await writeJson(f.state, state).catch((err) => {
      if (err?.code !== 'ENOENT') throw err
    })
  }
  await save({})

  // Published ports are bound before the process runs and kept across restarts;
  // a port that cannot be bound fails the start.
  let publication: Publication | undefined
  const networking = await readJson<ContainerNetworking>(f.network)
  const target = networking?.interfaces.find((i) => !i.internal)
  if (record.spec.ports.length > 0 && target) {
    try {
      publication = await publish(record.spec.ports, target.address, target.hostBindingIp)
      await save({ ports: publication.ports })
    } catch (err) {
      if (!(err instanceof PublishError)) throw err
      await save({ status: 'exited', exitCode: 128, finishedAt: new Date().toISOString(), error: err.message, monitorPid: undefined })
      return
    }
  }

  // The networks' DNS is served while the container may run (restarts included); the engine root is two levels up.
  nameServers ??= new NameServers(dirname(dirname(dir)))
  const stopDns = nameServers.serve((networking?.interfaces ?? []).filter((i) => !i.internal).map((i) => ({ networkId: i.networkId, gateway: i.gateway })))
  try {
    // Docker's back-off: 100 ms, doubling, at most a minute; back to 100 ms after a run of 10 s or more.
    let delay = 100
    for (;;) {
      const started = Date.now()
      const exit = await runOnce(dir, record, save)
      const stopped = existsSync(f.stoppedByUser)
      // One write: a reader never sees the container exited without its code.
      await save({ status: 'exited', exitCode: exit.code, finishedAt: new Date().toISOString(), pid: undefined, health: undefined, failingStreak: undefined, ...(exit.error ? { error: exit.error } : {}) })
      if (stopped || exit.error || !shouldRestart(record.spec.restart, exit.code, state.restartCount)) break
      if (Date.now() - started >= 10_000) delay = 100
      await save({ status: 'restarting', restartCount: state.restartCount + 1 })
      await sleep(delay)
      delay = Math.min(delay * 2, 60_000)
      if (existsSync(f.stoppedByUser)) {
        await save({ status: 'exited' })
        break
      }
    }
  } finally {
    stopDns()
    publication?.close()
    // The last write: readers take a state without monitorPid as final.
    await save({ ports: undefined, monitorPid: undefined })
  }
}

function shouldRestart(policy: ContainerRecord['spec']['restart'], code: number, count: number): boolean {
  switch (policy.policy) {
    case 'always':
    case 'unless-stopped':
      return true
    case 'on-failure':
      return code !== 0 && (policy.maxRetries === undefined || policy.maxRetries === 0 || count < policy.maxRetries)
    default:
      return false
  }
}

async function runOnce(dir: string, record: ContainerRecord, save: (c: Partial<ContainerRunState>) => Promise<void>): Promise<{ code: number; error?: string }> {
  const f = files(dir)
  // The last run's pid file would pass for this run's until the runtime replaces it.
  rmSync(f.pidFile, { force: true })
  const args = ['--root', runtimeRoot, '--log', f.runtimeLog, '--log-format', 'json', 'run', '--bundle', f.bundle, '--pid-file', f.pidFile, record.id]
  // With tty, runc run in the foreground makes the container's pseudo-terminal
  // and relays it to its own terminal, which it must have: script(1) (util-linux)
  // gives it one, so the monitor needs no file-descriptor passing (Node cannot
  // receive one over a socket). stdin_open/tty: a stdin that stays open (never
  // written, never closed), so a shell waiting on it keeps running, as under Docker.
  const [command, argv] = record.spec.tty ? underTerminal(runtime, args) : [runtime, args]
  const child = spawn(command, argv, { stdio: [record.spec.tty || record.spec.stdinOpen ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
  pipeLog(f.log, child.stdout!, 'stdout')
  pipeLog(f.log, child.stderr!, 'stderr')
  // Ended once the pipes are drained ('close'), not at 'exit': the process can be gone while the last
  // lines it wrote are still in the pipes, and a reader that takes the recorded exit as the end of the
  // log (attached `up`, `logs -f`) missed them. A pipe some leftover process still holds open does not
  // keep the exit from being recorded: 2 s after 'exit', it is.
  const exited = new Promise<number>((resolve) => {
    const code = (c: number | null, signal: NodeJS.Signals | null) => c ?? 128 + signalNumber(signal)
    let late: NodeJS.Timeout | undefined
    child.on('close', (c, signal) => {
      clearTimeout(late)
      resolve(code(c, signal))
    })
    child.on('exit', (c, signal) => (late = setTimeout(() => resolve(code(c, signal)), 2000)))
  })

  // Running once the runtime has written the process's pid; a process that fails to start never gets one.
  let pid: number | undefined
  for (let i = 0; i < 400 && pid === undefined; i++) {
    const done = await Promise.race([exited.then(() => true), sleep(10).then(() => false)])
    if (existsSync(f.pidFile)) pid = Number(readFileSync(f.pidFile, 'utf8'))
    if (done) break
  }
  if (pid !== undefined) {
    await save({ status: 'running', pid, startedAt: new Date().toISOString(), exitCode: undefined, error: undefined, ...(record.spec.healthcheck ? { health: 'starting', failingStreak: 0 } : {}) })
  }
  const stopHealth = pid !== undefined && record.spec.healthcheck ? healthLoop(record, record.spec.healthcheck, save) : undefined
  const code = await exited
  stopHealth?.()
  if (pid === undefined && code !== 0) return { code, error: startError(f.runtimeLog) }
  return { code }
}

/** The runtime's own last error, from its JSON log, when the process could not be started. */
function startError(runtimeLog: string): string {
  try {
    const lines = readFileSync(runtimeLog, 'utf8').trim().split('\n').reverse()
    for (const line of lines) {
      const entry = JSON.parse(line) as { level?: string; msg?: string }
      if (entry.level === 'error' && entry.msg) return entry.msg.replace(/^runc run failed: /, '')
    }
  } catch {
    // no log
  }
  return 'the runtime could not start the process'
}

function pipeLog(log: string, stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void {
  let partial = ''
  stream.on('data', (chunk: Buffer) => {
    // A terminal ends lines with \r\n.
    const text = (partial + chunk.toString('utf8')).replace(/\r\n/g, '\n')
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    if (lines.length) appendFileSync(log, lines.map((l) => JSON.stringify({ t: new Date().toISOString(), s: name, l })).join('\n') + '\n')
  })
  stream.on('end', () => {
    if (partial) appendFileSync(log, JSON.stringify({ t: new Date().toISOString(), s: name, l: partial }) + '\n')
  })
}

/**
 * Runs the healthcheck as Docker does: first after the start interval (during
 * the start period) or the interval, each probe killed after the timeout;
 * `retries` failures in a row outside the start period make it unhealthy,
 * one success makes it healthy.
 */
function healthLoop(record: ContainerRecord, check: Healthcheck, save: (c: Partial<ContainerRunState>) => Promise<void>): () => void {
  let stopped = false
  let streak = 0
  const started = Date.now()
  const argv = check.test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', check.test.slice(1).join(' ')] : check.test.slice(1)
  const loop = async () => {
    while (!stopped) {
      const inStart = Date.now() - started < check.startPeriodMs
      await sleep(inStart && check.startIntervalMs ? check.startIntervalMs : check.intervalMs)
      if (stopped) return
      const ok = await probe(record.id, argv, check.timeoutMs)
      if (stopped) return
      if (ok) {
        streak = 0
        await save({ health: 'healthy', failingStreak: 0 })
      } else if (!(Date.now() - started < check.startPeriodMs)) {
        streak++
        await save({ failingStreak: streak, ...(streak >= check.retries ? { health: 'unhealthy' } : {}) })
      }
    }
  }
  void loop()
  return () => {
    stopped = true
  }
}

function probe(id: string, argv: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(runtime, ['--root', runtimeRoot, 'exec', id, ...argv], { stdio: 'ignore' })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve(code === 0)
    })
    child.on('error', () => resolve(false))
  })
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGUSR1: 10, SIGUSR2: 12 }
  return signal ? numbers[signal] ?? 0 : 0
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

process.on('SIGHUP', () => {})

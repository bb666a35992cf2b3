import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ContainerSpec } from '../../engine.js'
import type { PublishedPort } from '../../../network/proxy.js'

/** What pier decided when it created the container; written once. */
export interface ContainerRecord {
  id: string
  name: string
  /** The image ID. */
  image: string
  /** The image's layer directories, bottom first. */
  layers: string[]
  spec: ContainerSpec
  createdAt: string
  /** Volumes made for this container's anonymous mounts, removed with it on request. */
  anonymousVolumes: string[]
}

/**
 * What happened to it since; written only by the container's monitor, so
 * it has a single writer. pier asks for a stop by creating the
 * `stopped-by-user` file, which the monitor reads before deciding to restart.
 */
export interface ContainerRunState {
  status: 'created' | 'running' | 'restarting' | 'exited'
  pid?: number
  exitCode?: number
  /** Why the runtime could not start the process, when it could not. */
  error?: string
  startedAt?: string
  finishedAt?: string
  health?: 'starting' | 'healthy' | 'unhealthy'
  failingStreak?: number
  restartCount: number
  /** The host ports its monitor listens on for it, while it runs. */
  ports?: PublishedPort[]
  /** The monitor's pid; it stays after the monitor exits, so readers check whether it is alive. */
  monitorPid?: number
}

/**
 * The paths of a container's directory. Built once per directory: callers
 * ask for them on every read of a record or state (thousands of times in an
 * `up` of 30), and fourteen path joins each time were ~40 ms of it.
 */
export function files(dir: string): ContainerFiles {
  let known = knownFiles.get(dir)
  if (!known) {
    // A bounded memo: a long-lived library process sees containers come and go.
    if (knownFiles.size >= 1024) knownFiles.clear()
    known = containerFiles(join(dir).replace(/(.)\/+$/, '$1'))
    knownFiles.set(dir, known)
  }
  return known
}

const knownFiles = new Map<string, ContainerFiles>()

/** `dir` is normalized (join, no trailing slash), so the rest is plain concatenation. */
const containerFiles = (dir: string) =>
  Object.freeze({
    record: `${dir}/record.json`,
    state: `${dir}/state.json`,
    log: `${dir}/log.jsonl`,
    bundle: `${dir}/bundle`,
    config: `${dir}/bundle/config.json`,
    rootfs: `${dir}/bundle/rootfs`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    pidFile: `${dir}/pid`,
    runtimeLog: `${dir}/runtime.log`,
    stoppedByUser: `${dir}/stopped-by-user`,
    etc: `${dir}/etc`,
    /** The host-side tmpfs of a container with `ipc: shareable`, bound at its /dev/shm and at its joiners'. */
    shm: `${dir}/shm`,
    /** Its network namespace and interfaces (ContainerNetworking), from its first start until it is removed. */
    network: `${dir}/network.json`,
  })

export type ContainerFiles = ReturnType<typeof containerFiles>

/**
 * A small JSON file of the engine root (a record, a state, network.json),
 * read synchronously: for a file of a few KB on a local disk that is one
 * open-read-close, where the promise API makes four trips through libuv's
 * thread pool, and an `up` of 30 reads them thousands of times (bench/RESULTS.md).
 */
export async function readJson<T>(path: string): Promise<T | undefined> {
  return readJsonSync<T>(path)
}

export function readJsonSync<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

/**
 * Whole-file replace, so a reader never sees half a state. Synchronous, as
 * readJson reads: most of these writes happen holding a lock (a create's
 * record under the containers lock), and with thirty starts sharing the
 * event loop, each trip through the thread pool waited its turn while the
 * lock was held — a create of an `up` of 30 held it ~20 ms, ~1 s in all.
 */
export async function writeJson(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, JSON.stringify(value))
  renameSync(temp, path)
}

/**
 * `command args` run under script(1) (util-linux), which gives it a
 * terminal of its own: runc, asked for a terminal in the foreground, needs
 * one to relay the container's to, and Node cannot hand over a console fd.
 */
export function underTerminal(command: string, args: string[]): [string, string[]] {
  return ['script', ['-qfec', [command, ...args].map(shellQuote).join(' '), '/dev/null']]
}

/** An argument quoted for sh, for commands run through script(1). */
function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`
}

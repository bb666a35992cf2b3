import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { EmbeddedEngine } from '../src/engine/embedded/engine.js'
import type { ContainerSpec } from '../src/engine/engine.js'
import { busyboxImage, dockerArchive } from './images.js'

/** A ContainerSpec with Docker's defaults, for `name` running `argv` in the test busybox image. */
export function specFor(name: string, argv: string[], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: 'busybox',
    argv,
    env: {},
    tty: false,
    stdinOpen: false,
    init: false,
    readOnly: false,
    privileged: false,
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    sysctls: {},
    ulimits: {},
    devices: [],
    mounts: [],
    networkMode: 'none',
    networks: [],
    ports: [],
    extraHosts: {},
    dns: [],
    dnsSearch: [],
    dnsOpt: [],
    limits: {},
    restart: { policy: 'no' },
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 10_000,
    labels: {},
    ...overrides,
  }
}

/** An engine on a fresh root with the busybox image loaded; `cleanup` removes every container and checks nothing is left. */
export async function engineWithBusybox(): Promise<{ engine: EmbeddedEngine; root: string; cleanup: () => Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'pier-root-'))
  const engine = new EmbeddedEngine({ root })
  await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['busybox:latest'])])))
  const cleanup = async () => {
    try {
      const ids = readdirSync(join(root, 'containers'))
      for (const c of await engine.listContainers({}, { all: true })) await engine.remove(c.id, { force: true, volumes: true })
      for (const id of ids) assertNothingLeft(root, id)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
  return { engine, root, cleanup }
}

/** After remove: no mount, no cgroup, no runtime state, no bundle, no monitor. */
export function assertNothingLeft(root: string, id: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
  assert.ok(!mounts.includes(id), `a mount of ${id.slice(0, 12)} is left`)
  for (const controller of ['memory', 'pids', 'cpu', 'freezer']) {
    assert.ok(!existsSync(`/sys/fs/cgroup/${controller}/pier/${id}`), `cgroup ${controller}/pier/${id.slice(0, 12)} is left`)
  }
  assert.ok(!existsSync(join(root, 'runtime', id)), 'runtime state is left')
  assert.ok(!existsSync(join(root, 'containers', id)), 'the container directory is left')
  const monitors = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('monitor.js') && l.includes(id))
  assert.deepEqual(monitors, [], 'a monitor process is left')
}

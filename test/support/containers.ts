import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import { defaultContainerSpec } from '../../src/engine/defaults.js'
import type { ContainerSpec, LogLine } from '../../src/engine/engine.js'
import { busyboxImage, dockerArchive } from './images.js'

/** A ContainerSpec with Docker's defaults, for `name` running `argv` in the test busybox image. */
export function specFor(name: string, argv: string[], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return { ...defaultContainerSpec(name, 'busybox', argv), ...overrides }
}

/** An engine on a fresh root with the busybox image loaded; `cleanup` removes every container and checks nothing is left. */
export async function engineWithBusybox(): Promise<{ engine: EmbeddedEngine; root: string; cleanup: () => Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'pier-root-'))
  const engine = new EmbeddedEngine({ root })
  await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['busybox:latest'])])))
  const cleanup = async () => {
    try {
      const ids = existsSync(join(root, 'containers')) ? readdirSync(join(root, 'containers')) : []
      for (const c of await engine.listContainers({}, { all: true })) await engine.remove(c.id, { force: true, volumes: true })
      const networks = await engine.listNetworks({})
      for (const n of networks) await engine.removeNetwork(n.name)
      for (const id of ids) assertNothingLeft(root, id)
      for (const n of networks) assertNetworkGone(n.bridge!)
      await engine.close()
      await assertNoMonitor(root)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
  return { engine, root, cleanup }
}

/** After a network's removal: no bridge, no route to its subnet, no NAT table. */
export function assertNetworkGone(bridge: string): void {
  assert.ok(!existsSync(`/sys/class/net/${bridge}`), `bridge ${bridge} is left`)
  assert.ok(!execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).includes(bridge), `a route on ${bridge} is left`)
  if (existsSync('/usr/sbin/nft')) assert.ok(!execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes(`pier_${bridge.replace(/[^a-zA-Z0-9]/g, '_')}`), `the NAT table of ${bridge} is left`)
}

/** After remove: no mount, no cgroup, no runtime state, no bundle, no network namespace or veth. */
export function assertNothingLeft(root: string, id: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
  assert.ok(!mounts.includes(id), `a mount of ${id.slice(0, 12)} is left`)
  for (const controller of ['memory', 'pids', 'cpu', 'freezer']) {
    assert.ok(!existsSync(`/sys/fs/cgroup/${controller}/pier/${id}`), `cgroup ${controller}/pier/${id.slice(0, 12)} is left`)
  }
  assert.ok(!existsSync(join(root, 'runtime', id)), 'runtime state is left')
  assert.ok(!existsSync(join(root, 'containers', id)), 'the container directory is left')
  assert.ok(!existsSync(`/run/netns/pier-${id.slice(0, 16)}`), 'a network namespace is left')
  assert.ok(!readdirSync('/sys/class/net').some((l) => l.startsWith(`pv${id.slice(0, 11)}`)), 'a veth is left')
}

/** Once the engine is closed and its containers are gone, its monitor exits too. */
export async function assertNoMonitor(root: string): Promise<void> {
  const monitors = () => execFileSync('ps', ['-eo', 'stat,args'], { encoding: 'utf8' }).split('\n').filter((l) => !l.startsWith('Z') && l.includes('monitor.js') && l.includes(root))
  for (let i = 0; i < 100 && monitors().length > 0; i++) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual(monitors(), [], 'a monitor process is left')
}

/** Every line of a log stream, once it ends. */
export async function collect(lines: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = []
  for await (const l of lines) out.push(l)
  return out
}

/** Waits until `check` holds, failing the test with `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  assert.fail(`timed out waiting for ${what}`)
}

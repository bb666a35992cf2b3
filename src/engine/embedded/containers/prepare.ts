import { execFile } from 'node:child_process'
import { closeSync, existsSync, fstatSync } from 'node:fs'
import { chmod, chown, mkdir, readdir } from 'node:fs/promises'
import { promisify } from 'node:util'
import type { ContainerSpec, Mount } from '../../engine.js'
import { EngineError } from '../../errors.js'
import type { VolumeStore } from '../volumes.js'
import { attach, type ContainerNetworking } from '../../../network/attach.js'
import type { NetworkStore } from '../../../network/networks.js'
import { etcFiles, type EtcFiles, type Hosts } from './hosts.js'
import { openInRoot, resolveInRoot } from './inroot.js'
import { isRunning, runState } from './liveness.js'
import type { RecordStore } from './records.js'
import { isMounted, mountRootfs } from './rootfs.js'
import type { Runtime } from './runtime.js'
import { hostLimits, runtimeSpec, type Namespace } from './spec.js'
import { files, readJson, writeJson, type ContainerRecord } from './state.js'
import { resolveUserInRoot } from './users.js'

const exec = promisify(execFile)

export interface PrepareContext {
  records: RecordStore
  volumes: VolumeStore
  networks: NetworkStore
  hosts: Hosts
  runtime: Runtime
}

type RuntimeMount = { source: string; target: string; options: string[]; type: 'bind' | 'tmpfs' }

/**
 * Makes a container's bundle before a start: mounts its root filesystem,
 * fills new volumes from the image, joins its networks, writes its /etc
 * files and config.json. The spec arrives with every image default applied
 * (the planner's job); what is added here is only what a runtime adds: PATH
 * when unset, HOME, HOSTNAME.
 */
export async function prepare(ctx: PrepareContext, record: ContainerRecord): Promise<void> {
  const f = files(ctx.records.dir(record.id))
  const spec = record.spec
  await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
  const user = await resolveUserInRoot(spec.user, f.rootfs, spec.groupAdd)
  const env = new Map(Object.entries(spec.env))
  if (!env.has('PATH')) env.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
  const hostname = spec.hostname ?? record.id.slice(0, 12)
  env.set('HOSTNAME', hostname)
  if (!env.has('HOME')) env.set('HOME', user.home)

  const mounts: RuntimeMount[] = []
  for (const m of spec.mounts) mounts.push(await runtimeMount(ctx, record, m))

  const net = await connect(ctx, record)
  const etc = net.etc ?? ctx.hosts.writeEtc(record, hostname, net.networking)
  const config = runtimeSpec({
    id: record.id,
    spec,
    user,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    workingDir: spec.workingDir || '/',
    rootfs: f.rootfs,
    etc,
    mounts,
    hostLimits: await hostLimits(),
    initPath: spec.init ? initBinary() : undefined,
    ...(net.netnsPath ? { netnsPath: net.netnsPath } : {}),
    ipc: await sharedNamespace(ctx, record, 'ipc', spec.ipc),
    pid: await sharedNamespace(ctx, record, 'pid', spec.pid),
    ...(await sharedMemory(ctx, record)),
  })
  await writeJson(f.config, config)
  if (net.networking) await ctx.hosts.refresh()
}

async function runtimeMount(ctx: PrepareContext, record: ContainerRecord, m: Mount): Promise<RuntimeMount> {
  const rootfs = files(ctx.records.dir(record.id)).rootfs
  if (m.type === 'volume') {
    const volume = await ctx.volumes.inspect(m.source)
    if (!volume) throw new EngineError('not-found', `container ${record.name}: no such volume: ${m.source}`)
    // A volume on a host directory (driver_opts device) is filled but keeps its owner: it is the user's directory.
    if (!m.nocopy) await fillVolume(volume.mountpoint, rootfs, m.target, !volume.driverOpts?.device)
    // A subpath is a path inside the volume: a link in it must not lead out.
    const source = m.subpath ? resolveInRoot(volume.mountpoint, m.subpath) : volume.mountpoint
    if (!source) throw new EngineError('invalid', `container ${record.name}: subpath ${m.subpath} does not exist in volume ${m.source}`)
    return { type: 'bind', source, target: m.target, options: ['rbind', m.readOnly ? 'ro' : 'rw'] }
  }
  if (m.type === 'bind') {
    if (!existsSync(m.source)) {
      if (!m.createHostPath) throw new EngineError('invalid', `container ${record.name}: the bind source ${m.source} does not exist (create it, or use the short syntax, which creates it)`)
      await mkdir(m.source, { recursive: true })
    }
    return { type: 'bind', source: m.source, target: m.target, options: ['rbind', m.readOnly ? 'ro' : 'rw', m.propagation ?? 'rprivate'] }
  }
  if (m.type === 'tmpfs') return { type: 'tmpfs', source: 'tmpfs', target: m.target, options: ['nosuid', 'nodev', ...(m.size ? [`size=${m.size}`] : []), `mode=${(m.mode ?? 0o1777).toString(8)}`] }
  return { type: 'bind', source: m.source, target: m.target, options: ['rbind', 'ro', 'rprivate'] }
}

/**
 * `volumes_from`: every volume, bind and file mount of the donors, at the
 * same targets, read-only with `:ro` (else as the donor has it). Resolved
 * once, at create, as Docker does: the container keeps them if the donor
 * goes. A donor's anonymous volumes stay the donor's (not removed with this one).
 */
export async function mountsFrom(records: RecordStore, spec: ContainerSpec): Promise<Mount[]> {
  const out: Mount[] = []
  for (const entry of spec.volumesFrom ?? []) {
    const parts = entry.replace(/^container:/, '').split(':')
    const mode = parts.length > 1 && /^(ro|rw)$/.test(parts.at(-1)!) ? parts.pop() : undefined
    const name = parts.join(':')
    const donor = await records.find(name)
    if (!donor) throw new EngineError('not-found', `container ${spec.name}: volumes_from ${name}: no such container`)
    for (const m of donor.spec.mounts) {
      if (m.type === 'tmpfs') continue
      out.push(mode === undefined || m.type === 'file' ? m : { ...m, readOnly: mode === 'ro' })
    }
  }
  return out
}

/**
 * Docker's copy-up: a new, empty volume takes the image's content at its
 * mount path, and always that directory's owner and mode, even when it is
 * empty (a `user: postgres` service cannot initdb in a root-owned volume).
 * The image path is resolved inside the root filesystem, so a link in the
 * image (or `..` in the target) cannot make this copy a host directory.
 */
export async function fillVolume(volumeDir: string, rootfs: string, target: string, takeOwner = true): Promise<void> {
  if ((await readdir(volumeDir)).length > 0) return
  const source = openInRoot(rootfs, target)
  if (source === undefined) return
  try {
    const info = fstatSync(source)
    if (!info.isDirectory()) return
    // cp reads the directory held open here (its /proc fd path), not a path that could be re-linked meanwhile; -a copies links as links.
    const held = `/proc/${process.pid}/fd/${source}`
    if ((await readdir(held)).length > 0) await exec('cp', ['-a', '--', `${held}/.`, volumeDir])
    if (!takeOwner) return
    await chown(volumeDir, info.uid, info.gid)
    await chmod(volumeDir, info.mode & 0o7777)
  } finally {
    closeSync(source)
  }
}

/**
 * The container's network: on bridge networks, its own namespace with an
 * interface per network (recorded in network.json for the monitor, which
 * publishes ports to it, and for name resolution); with `container:X`,
 * X's namespace and X's /etc files; with host or none, nothing to build.
 */
async function connect(ctx: PrepareContext, record: ContainerRecord): Promise<{ netnsPath?: string; networking?: ContainerNetworking; etc?: EtcFiles }> {
  const spec = record.spec
  const mode = spec.networkMode
  if (mode.startsWith('container:')) {
    const { target, pid } = await runningPeer(ctx, record, 'network_mode', mode.slice('container:'.length))
    const own = await readJson<ContainerNetworking>(files(ctx.records.dir(target.id)).network)
    return { netnsPath: own?.netnsPath ?? (target.spec.networkMode === 'host' ? '/proc/1/ns/net' : `/proc/${pid}/ns/net`), etc: etcFiles(files(ctx.records.dir(target.id)).etc) }
  }
  if (mode !== 'bridge' || spec.networks.length === 0) return {}
  const networking = await attach(ctx.networks, record.id, spec.networks)
  await writeJson(files(ctx.records.dir(record.id)).network, networking)
  return { netnsPath: networking.netnsPath, networking }
}

/**
 * `ipc:` and `pid:` as Docker takes them: `host` shares the host's
 * namespace, `container:NAME` that running container's (through its init's
 * /proc/<pid>/ns entry), anything else (private, shareable) a new one.
 */
async function sharedNamespace(ctx: PrepareContext, record: ContainerRecord, kind: 'ipc' | 'pid', mode: string | undefined): Promise<Namespace> {
  if (mode === 'host') return 'host'
  if (!mode?.startsWith('container:')) return 'own'
  const { pid } = await runningPeer(ctx, record, kind, mode.slice('container:'.length))
  return { path: `/proc/${pid}/ns/${kind}` }
}

/**
 * /dev/shm, which is a mount, not part of the IPC namespace: Docker gives a
 * `shareable` container a tmpfs made on the host, so that a container joining
 * its IPC namespace mounts the same one (a mount inside another container's
 * mount namespace cannot be bound from here); `host` binds the host's.
 * A joined container that is not shareable keeps its /dev/shm to itself
 * (Docker refuses to join it; pier joins its SysV IPC only).
 */
async function sharedMemory(ctx: PrepareContext, record: ContainerRecord): Promise<{ shmPath?: string }> {
  const ipc = record.spec.ipc
  if (ipc === 'host') return { shmPath: '/dev/shm' }
  if (ipc === 'shareable') {
    const path = files(ctx.records.dir(record.id)).shm
    if (!(await isMounted(path))) {
      await mkdir(path, { recursive: true })
      await exec('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${record.spec.shmSize ?? 64 * 1024 * 1024}`, 'shm', path])
    }
    return { shmPath: path }
  }
  if (ipc?.startsWith('container:')) {
    const donor = await ctx.records.find(ipc.slice('container:'.length))
    const path = donor && files(ctx.records.dir(donor.id)).shm
    if (path && (await isMounted(path))) return { shmPath: path }
  }
  return {}
}

/** The container another one joins (network_mode, ipc, pid `container:NAME`): it must exist and run. */
async function runningPeer(ctx: PrepareContext, record: ContainerRecord, field: string, name: string): Promise<{ target: ContainerRecord; pid: number }> {
  const target = await ctx.records.find(name)
  if (!target) throw new EngineError('not-found', `container ${record.name}: ${field} container:${name}: no such container`)
  const dir = ctx.records.dir(target.id)
  const pid = (await runState(dir)).pid
  if (!pid || !(await isRunning(ctx.runtime, dir, target.id))) throw new EngineError('conflict', `container ${record.name}: ${field} container:${name}: container ${target.name} is not running; start it first`)
  return { target, pid }
}

/**
 * `init: true` runs tini as PID 1 (as Docker runs its docker-init, which is
 * tini): it forwards signals to the command and reaps zombies. The static
 * build is mounted into the container, so the image needs nothing.
 */
function initBinary(): string {
  const path = process.env.PIER_INIT || '/usr/bin/tini-static'
  if (!existsSync(path)) throw new EngineError('runtime', `init: true needs tini's static binary at ${path}: apt-get install tini (or set PIER_INIT)`)
  return path
}

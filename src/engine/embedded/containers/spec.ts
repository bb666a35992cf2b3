import { readFile } from 'node:fs/promises'
import { existsSync, readFileSync, statSync } from 'node:fs'
import type { ContainerSpec } from '../../engine.js'
import { EngineError } from '../../errors.js'
import { seccompProfile } from './seccomp.js'
import type { User } from './users.js'

/** Docker's default capability set: what a container may do unless told otherwise. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
]

/** Capability names by bit number, as the kernel numbers them. */
const CAPABILITY_BITS = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`)

let hostCapabilities: string[] | undefined
/**
 * "All capabilities" means all that this host can grant: those in pier's own
 * bounding set (a sandbox may lack some, and asking for them fails).
 */
export function allCapabilities(): string[] {
  if (!hostCapabilities) {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'))
    const mask = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`)
    hostCapabilities = CAPABILITY_BITS.filter((_, bit) => (mask >> BigInt(bit)) & 1n)
  }
  return hostCapabilities
}

/** Docker masks these /proc and /sys paths and makes these read-only, so a container cannot read or poke the host through them. */
const MASKED_PATHS = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

/** The device nodes every container may use (Docker's default cgroup device rules). */
const DEFAULT_DEVICES = [
  { type: 'c', major: 1, minor: 3 }, // null
  { type: 'c', major: 1, minor: 5 }, // zero
  { type: 'c', major: 1, minor: 7 }, // full
  { type: 'c', major: 1, minor: 8 }, // random
  { type: 'c', major: 1, minor: 9 }, // urandom
  { type: 'c', major: 5, minor: 0 }, // tty
  { type: 'c', major: 5, minor: 2 }, // ptmx
  { type: 'c', major: 136, minor: -1 }, // pts
]

/** This host's hard limits: a container's ulimits are never set above them (the runtime would fail). */
export interface HostLimits {
  [resource: string]: number
}

/** A namespace of the container: its own, the host's (none made), or another's joined by path. */
export type Namespace = 'own' | 'host' | { path: string }

export interface RuntimeSpecInput {
  id: string
  spec: ContainerSpec
  user: User
  env: string[]
  workingDir: string
  rootfs: string
  /** Files made for the container: /etc/hosts, /etc/hostname, /etc/resolv.conf, and /etc/host.conf on networks. */
  etc: { hosts: string; hostname: string; resolvConf: string; hostConf?: string }
  /** Host paths of the volume and bind mounts, resolved. */
  mounts: { source: string; target: string; options: string[]; type: 'bind' | 'tmpfs' }[]
  hostLimits: HostLimits
  initPath?: string
  /** The network namespace to join (bridge networks, `container:`); none: a new, empty one. */
  netnsPath?: string
  ipc?: Namespace
  pid?: Namespace
  /** A host directory to bind at /dev/shm (ipc shareable, host, or joined), instead of a tmpfs of its own. */
  shmPath?: string
}

/** A ContainerSpec as an OCI runtime config.json (runtime-spec 1.0) for runc. */
export function runtimeSpec(input: RuntimeSpecInput): Record<string, unknown> {
  const { spec, user } = input
  const caps = capabilities(spec)
  const devices = hostDevices(spec)
  const seccomp = seccompProfile(spec, caps)
  const hostNetwork = spec.networkMode === 'host'
  const args = spec.init && input.initPath ? ['/sbin/docker-init', '--', ...spec.argv] : spec.argv
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.tty,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args,
      env: input.env,
      cwd: input.workingDir,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: rlimits(spec, input.hostLimits),
      noNewPrivileges: spec.securityOpt.some((o) => /^no-new-privileges(:true|=true)?$/.test(o)),
      oomScoreAdj: spec.limits.oomScoreAdj,
    },
    root: { path: input.rootfs, readonly: spec.readOnly },
    hostname: hostNetwork ? undefined : spec.hostname ?? input.id.slice(0, 12),
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      input.shmPath
        ? { destination: '/dev/shm', type: 'bind', source: input.shmPath, options: ['rbind', 'rprivate'] }
        : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${spec.shmSize ?? 64 * 1024 * 1024}`] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', spec.privileged ? 'rw' : 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', spec.privileged ? 'rw' : 'ro'] },
      { destination: '/etc/hosts', type: 'bind', source: input.etc.hosts, options: ['rbind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: input.etc.hostname, options: ['rbind', 'rprivate'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: input.etc.resolvConf, options: ['rbind', 'rprivate'] },
      ...(input.etc.hostConf ? [{ destination: '/etc/host.conf', type: 'bind', source: input.etc.hostConf, options: ['rbind', 'ro', 'rprivate'] }] : []),
      ...(spec.init && input.initPath ? [{ destination: '/sbin/docker-init', type: 'bind', source: input.initPath, options: ['rbind', 'ro', 'rprivate'] }] : []),
      ...input.mounts.map((m) =>
        m.type === 'tmpfs'
          ? { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: m.options }
          : { destination: m.target, type: 'bind', source: m.source, options: m.options },
      ),
    ],
    linux: {
      namespaces: [
        ...namespace('pid', input.pid),
        ...namespace('ipc', input.ipc),
        { type: 'uts' },
        { type: 'mount' },
        ...(hostNetwork ? [] : [{ type: 'network', ...(input.netnsPath ? { path: input.netnsPath } : {}) }]),
      ],
      // cgroup_parent as Docker reads it on cgroupfs: a path under the hierarchy's root, the container below it.
      cgroupsPath: `/${(spec.cgroupParent || 'pier').replace(/^\/+|\/+$/g, '')}/${input.id}`,
      ...(devices.length ? { devices: devices.map(({ access: _a, ...d }) => d) } : {}),
      resources: resources(spec, devices),
      sysctl: spec.sysctls,
      ...(spec.privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
      ...(seccomp ? { seccomp } : {}),
    },
  }
}

function namespace(type: 'pid' | 'ipc', ns: Namespace = 'own'): { type: string; path?: string }[] {
  if (ns === 'host') return []
  return [ns === 'own' ? { type } : { type, path: ns.path }]
}

function capabilities(spec: ContainerSpec): string[] {
  if (spec.privileged) return allCapabilities()
  const norm = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`)
  const drop = spec.capDrop.map(norm)
  const add = spec.capAdd.map(norm)
  let caps = drop.includes('CAP_ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c))
  caps = add.includes('CAP_ALL') ? allCapabilities().filter((c) => !drop.includes(c) || add.includes(c)) : [...new Set([...caps, ...add])]
  return caps
}

function rlimits(spec: ContainerSpec, host: HostLimits): { type: string; soft: number; hard: number }[] {
  return Object.entries(spec.ulimits).map(([name, { soft, hard }]) => {
    const ceiling = host[name] ?? Infinity
    const h = hard < 0 ? ceiling : Math.min(hard, ceiling)
    return { type: `RLIMIT_${name.toUpperCase()}`, soft: Math.min(soft < 0 ? h : soft, h), hard: h }
  })
}

interface Device {
  path: string
  type: 'c' | 'b'
  major: number
  minor: number
  fileMode: number
  uid: number
  gid: number
  access: string
}

/** `devices:` as the runtime wants them: the host node's type and numbers, read now, at the container path. */
export function hostDevices(spec: ContainerSpec): Device[] {
  return spec.devices.map((d) => {
    let info
    try {
      info = statSync(d.source)
    } catch {
      throw new EngineError('invalid', `device ${d.source} does not exist on this host`)
    }
    if (!info.isCharacterDevice() && !info.isBlockDevice()) throw new EngineError('invalid', `${d.source} is not a device (devices: takes character or block devices such as /dev/fuse)`)
    if (!/^[rwm]+$/.test(d.permissions)) throw new EngineError('invalid', `device ${d.source}: permissions "${d.permissions}" must be letters of rwm`)
    const rdev = info.rdev
    return {
      path: d.target,
      type: info.isCharacterDevice() ? 'c' : 'b',
      major: (rdev >> 8) & 0xfff,
      minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
      fileMode: info.mode & 0o777,
      uid: info.uid,
      gid: info.gid,
      access: d.permissions,
    }
  })
}

function resources(spec: ContainerSpec, added: Device[]): Record<string, unknown> {
  const l = spec.limits
  const memory: Record<string, number> = {}
  if (l.memory !== undefined) memory.limit = l.memory
  if (l.memorySwap !== undefined) memory.swap = l.memorySwap
  if (l.memoryReservation !== undefined) memory.reservation = l.memoryReservation
  if (l.memSwappiness !== undefined && l.memSwappiness >= 0) memory.swappiness = l.memSwappiness
  const oom = l.oomKillDisable ? { disableOOMKiller: true } : {}
  const cpu: Record<string, number | string> = {}
  if (l.cpus !== undefined) {
    cpu.period = l.cpuPeriod ?? 100_000
    cpu.quota = Math.round(l.cpus * (l.cpuPeriod ?? 100_000))
  } else {
    if (l.cpuQuota !== undefined) cpu.quota = l.cpuQuota
    if (l.cpuPeriod !== undefined) cpu.period = l.cpuPeriod
  }
  if (l.cpuShares !== undefined) cpu.shares = l.cpuShares
  if (l.cpuset !== undefined) cpu.cpus = l.cpuset
  const devices = spec.privileged
    ? [{ allow: true, access: 'rwm' }]
    : [
        { allow: false, access: 'rwm' },
        ...DEFAULT_DEVICES.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: 'rwm' })),
        ...added.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access })),
      ]
  return {
    devices,
    ...(Object.keys(memory).length || l.oomKillDisable ? { memory: { ...memory, ...oom } } : {}),
    ...blockIO(l.blkio),
    ...(Object.keys(cpu).length ? { cpu } : {}),
    ...(l.pids !== undefined && l.pids > 0 ? { pids: { limit: l.pids } } : {}),
  }
}

/**
 * `blkio_config` as OCI blockIO: devices by their major and minor numbers,
 * read now. A weight needs a proportional I/O scheduler (blkio.weight or
 * blkio.bfq.weight); the engine declares it unsupported where there is none.
 */
function blockIO(b: ContainerSpec['limits']['blkio']): Record<string, unknown> {
  if (!b) return {}
  const dev = (path: string) => {
    const info = statSync(path, { throwIfNoEntry: false })
    if (!info?.isBlockDevice()) throw new EngineError('invalid', `blkio_config: ${path} is not a block device on this host`)
    return { major: (info.rdev >> 8) & 0xfff, minor: (info.rdev & 0xff) | ((info.rdev >> 12) & 0xfff00) }
  }
  const rates = (list?: { path: string; rate: number }[]) => list?.map((r) => ({ ...dev(r.path), rate: r.rate }))
  // Without a scheduler to honour them, weights would fail the start: they are dropped (the engine warns of it).
  const weigh = blkioWeightWorks()
  const out: Record<string, unknown> = {
    ...(b.weight && weigh ? { weight: b.weight } : {}),
    ...(b.weightDevice?.length && weigh ? { weightDevice: b.weightDevice.map((w) => ({ ...dev(w.path), weight: w.weight })) } : {}),
    ...(b.readBps?.length ? { throttleReadBpsDevice: rates(b.readBps) } : {}),
    ...(b.writeBps?.length ? { throttleWriteBpsDevice: rates(b.writeBps) } : {}),
    ...(b.readIops?.length ? { throttleReadIOPSDevice: rates(b.readIops) } : {}),
    ...(b.writeIops?.length ? { throttleWriteIOPSDevice: rates(b.writeIops) } : {}),
  }
  return Object.keys(out).length ? { blockIO: out } : {}
}

/** Whether this host's cgroups can weigh block I/O (a proportional scheduler's files exist). */
export function blkioWeightWorks(): boolean {
  return ['/sys/fs/cgroup/blkio/blkio.weight', '/sys/fs/cgroup/blkio/blkio.bfq.weight', '/sys/fs/cgroup/io.weight', '/sys/fs/cgroup/io.bfq.weight'].some((p) => existsSync(p))
}

/** The hard limits this host grants (from /proc/self/limits), so container ulimits stay under them. */
export async function hostLimits(): Promise<HostLimits> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => '')
  const names: Record<string, string> = { 'Max open files': 'nofile', 'Max processes': 'nproc', 'Max locked memory': 'memlock', 'Max core file size': 'core', 'Max stack size': 'stack' }
  const out: HostLimits = {}
  for (const line of text.split('\n')) {
    for (const [label, name] of Object.entries(names)) {
      if (line.startsWith(label)) {
        const hard = line.slice(label.length).trim().split(/\s+/)[1]
        if (hard && hard !== 'unlimited') out[name] = Number(hard)
      }
    }
  }
  return out
}

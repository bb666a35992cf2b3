import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Labels, Network, NetworkSpec } from '../engine/engine.js'
import { EngineError } from '../engine/errors.js'
import { withFileLock } from '../lock.js'
import { ipBatch, linkExists } from './ip.js'
import { macFor } from './attach.js'
import { applyFirewall, removeFirewall } from './firewall.js'
import { chooseSubnet, hostRoutes } from './pool.js'
import { contains, formatAddress, formatSubnet, overlaps, parseAddress, parseSubnet, size, type Subnet } from './subnet.js'

/** What pier keeps about a network: networks/<id>/network.json. */
export interface NetworkRecord extends NetworkSpec {
  id: string
  createdAt: string
  /** The Linux bridge, `pier-` and 10 hex digits of the ID (interface names stop at 15 characters). */
  bridge: string
  subnet: string
  gateway: string
  ipRange?: string
  mtu?: number
  /** Outbound traffic is masqueraded (where the host has nft). */
  masquerade: boolean
  /** The default host IP for this network's published ports (com.docker.network.bridge.host_binding_ipv4). */
  hostBindingIp?: string
}

/** Where address decisions are serialized across every pier process on this host, whatever its root. */
export const HOST_LOCK_DIR = '/run/pier'

const DRIVER_OPTS = new Set([
  'com.docker.network.bridge.name',
  'com.docker.network.driver.mtu',
  'com.docker.network.bridge.enable_ip_masquerade',
  'com.docker.network.bridge.host_binding_ipv4',
  'com.docker.network.bridge.enable_icc',
])

/**
 * Bridge networks of one engine root. A network is a directory: network.json
 * (written before the bridge exists, so an interrupted create is still found
 * and removed) and leases/, one file per address given to a container,
 * created exclusively so two processes never hand out the same address.
 */
export class NetworkStore {
  constructor(
    private readonly dir: string,
    /** Whether a container still exists; a lease of one that does not is free again. */
    private readonly containerExists: (id: string) => boolean,
  ) {}

  async list(labels: Labels = {}): Promise<NetworkRecord[]> {
    let ids: string[]
    try {
      ids = readdirSync(this.dir)
    } catch {
      ids = []
    }
    // Synchronous reads of a few small files (see leases): every start and listing reads them all.
    const records = await Promise.all(ids.map((id) => readRecord(join(this.dir, id))))
    return records.filter((r): r is NetworkRecord => !!r && Object.entries(labels).every(([k, v]) => r.labels[k] === v))
  }

  async inspect(nameOrId: string): Promise<NetworkRecord | undefined> {
    const all = await this.list()
    return all.find((n) => n.name === nameOrId || n.id === nameOrId) ?? (nameOrId.length >= 4 ? all.find((n) => n.id.startsWith(nameOrId)) : undefined)
  }

  async require(nameOrId: string): Promise<NetworkRecord> {
    const network = await this.inspect(nameOrId)
    if (!network) throw new EngineError('not-found', `network ${nameOrId} not found`)
    return network
  }

  async create(spec: NetworkSpec): Promise<NetworkRecord> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(spec.name)) throw new EngineError('invalid', `invalid network name "${spec.name}": use letters, digits, "_", "." and "-"`)
    if (spec.driver && spec.driver !== 'bridge') throw new EngineError('unsupported', `network ${spec.name}: driver "${spec.driver}" is not supported by the embedded engine (only bridge)`)
    if (spec.enableIpv6) throw new EngineError('unsupported', `network ${spec.name}: enable_ipv6 is not supported by the embedded engine yet (IPv4 only); remove it`)
    const opts = spec.driverOpts ?? {}
    for (const key of Object.keys(opts)) {
      if (!DRIVER_OPTS.has(key)) throw new EngineError('unsupported', `network ${spec.name}: driver_opts "${key}" is not supported by the embedded engine (supported: ${[...DRIVER_OPTS].join(', ')})`)
    }
    if (opts['com.docker.network.bridge.enable_icc'] === 'false') throw new EngineError('unsupported', `network ${spec.name}: enable_icc false is not supported by the embedded engine`)
    const mtu = opts['com.docker.network.driver.mtu'] !== undefined ? Number(opts['com.docker.network.driver.mtu']) : undefined
    if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535)) throw new EngineError('invalid', `network ${spec.name}: com.docker.network.driver.mtu must be a number from 68 to 65535`)
    const hostBindingIp = opts['com.docker.network.bridge.host_binding_ipv4']
    if (hostBindingIp !== undefined && parseAddress(hostBindingIp) === undefined) throw new EngineError('invalid', `network ${spec.name}: host_binding_ipv4 "${hostBindingIp}" is not an IPv4 address`)
    const ipam = ipamConfig(spec)

    const id = randomBytes(32).toString('hex')
    const bridge = opts['com.docker.network.bridge.name'] ?? `pier-${id.slice(0, 10)}`
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new EngineError('invalid', `network ${spec.name}: bridge name "${bridge}" must be 1 to 15 letters, digits, "_", "." or "-"`)

    // Choosing a subnet and claiming it (the bridge's address makes it a host
    // route) happen under one host-wide lock: another pier process, on this
    // root or another, sees the claim before it chooses.
    return withFileLock(HOST_LOCK_DIR, 'network', async () => {
      const existing = await this.list()
      if (existing.some((n) => n.name === spec.name)) throw new EngineError('conflict', `network with name ${spec.name} already exists`)
      if (linkExists(bridge)) throw new EngineError('conflict', `network ${spec.name}: an interface named ${bridge} already exists on this host`)
      // Taken: the host's routes (other projects' bridges among them) and this root's networks, bridge or not.
      const routes = [...(await hostRoutes()), ...existing.map((n) => ({ subnet: parseSubnet(n.subnet)!, dev: n.bridge }))]
      const subnet = ipam.subnet ?? chooseSubnet(routes, spec.name)
      if (ipam.subnet) {
        const clash = routes.find((r) => overlaps(r.subnet, ipam.subnet!))
        if (clash) throw new EngineError('conflict', `network ${spec.name}: subnet ${formatSubnet(ipam.subnet)} overlaps ${formatSubnet(clash.subnet)} (${clash.dev ? `a route on ${clash.dev}` : 'a host route'}); choose another subnet`)
      }
      const gateway = ipam.gateway ?? subnet.base + 1
      const record: NetworkRecord = {
        ...spec,
        driver: 'bridge',
        id,
        createdAt: new Date().toISOString(),
        bridge,
        subnet: formatSubnet(subnet),
        gateway: formatAddress(gateway),
        ...(ipam.ipRange ? { ipRange: formatSubnet(ipam.ipRange) } : {}),
        ...(mtu ? { mtu } : {}),
        masquerade: false,
        ...(hostBindingIp ? { hostBindingIp } : {}),
      }
      const dir = join(this.dir, id)
      await mkdir(join(dir, 'leases'), { recursive: true })
      await writeRecord(dir, record)
      try {
        record.masquerade = !spec.internal && opts['com.docker.network.bridge.enable_ip_masquerade'] !== 'false'
        await writeRecord(dir, record)
        await this.makeBridge(record)
      } catch (err) {
        await this.destroy(record).catch(() => undefined)
        throw err
      }
      return record
    })
  }

  /**
   * Makes the bridge exist, up, with the gateway address (not on internal
   * networks: with no address there, the host is out of their reach too).
   * Called again before each attach, so a host reboot, which takes the
   * bridges away, is repaired by the next start.
   */
  async ensureBridge(network: NetworkRecord): Promise<void> {
    if (linkExists(network.bridge)) return
    // Under the lock a removal holds, and only while the network still has its
    // record: a start racing a `down` would otherwise make the bridge (and its
    // firewall table) again after the removal, with no record to find them by.
    await withFileLock(HOST_LOCK_DIR, 'network', async () => {
      if (linkExists(network.bridge)) return
      if (!existsSync(join(this.dir, network.id, 'network.json'))) throw new EngineError('not-found', `network ${network.name} was removed meanwhile`)
      await this.makeBridge(network)
    })
  }

  /** The bridge, up, with its address and firewall; called holding the network lock. */
  private async makeBridge(network: NetworkRecord): Promise<void> {
    const prefix = parseSubnet(network.subnet)!.prefix
    // The bridge's MAC is set, not left to the kernel: a bridge with no
    // address of its own takes the lowest MAC among its ports, so a container
    // joining with a lower (random) veth MAC moved the gateway's MAC, and the
    // containers already there sent to the old one — DNS, NAT and published
    // ports — until their ARP entries expired (~30-40 s; the DNS test caught
    // it about one run in twelve). Derived from the gateway address, as the
    // containers' MACs are from theirs.
    await ipBatch([
      `link add ${network.bridge} address ${macFor(network.gateway)} type bridge`,
      ...(network.mtu ? [`link set ${network.bridge} mtu ${network.mtu}`] : []),
      ...(network.internal ? [] : [`addr add ${network.gateway}/${prefix} dev ${network.bridge}`]),
      `link set ${network.bridge} up`,
    ])
    await applyFirewall(network)
  }

  async remove(nameOrId: string): Promise<void> {
    const network = await this.require(nameOrId)
    const users = (await this.leases(network)).filter((l) => this.containerExists(l.container))
    if (users.length > 0) throw new EngineError('conflict', `network ${network.name} has active endpoints (${users.length} container${users.length > 1 ? 's' : ''}): remove them first`)
    await withFileLock(HOST_LOCK_DIR, 'network', () => this.destroy(network))
  }

  private async destroy(network: NetworkRecord): Promise<void> {
    if (linkExists(network.bridge)) await ipBatch([`link del ${network.bridge}`])
    await removeFirewall(network.bridge)
    await rm(join(this.dir, network.id), { recursive: true, force: true })
  }

  // ---------------------------------------------------------- addresses

  /**
   * Who holds which address. Read (and taken, in lease) with synchronous
   * calls: a lease file is a few bytes, and the thirty starts of an `up`
   * each read every lease and try addresses until one is free, which through
   * the promise API was hundreds of trips through the thread pool, each
   * waiting behind the other starts' work.
   */
  async leases(network: NetworkRecord): Promise<{ address: string; container: string }[]> {
    const dir = join(this.dir, network.id, 'leases')
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return []
    }
    return names.map((address) => ({ address, container: readText(join(dir, address)).trim() }))
  }

  /**
   * An address in `network` for `container`: the one it already holds (so a
   * container keeps its address across restarts), the one it asks for, or
   * the first free one. Leases are files created exclusively: two processes
   * asking at once get different addresses.
   */
  async lease(network: NetworkRecord, container: string, wanted?: string): Promise<string> {
    const leases = await this.leases(network)
    const own = leases.find((l) => l.container === container)
    if (own && (!wanted || wanted === own.address)) return own.address
    const subnet = parseSubnet(network.subnet)!
    const reserved = new Set([subnet.base, subnet.base + size(subnet) - 1, parseAddress(network.gateway)!, ...Object.values(network.ipam?.[0]?.auxAddresses ?? {}).map((a) => parseAddress(a)!)])
    const dir = join(this.dir, network.id, 'leases')
    const take = async (address: number): Promise<boolean> => {
      const text = formatAddress(address)
      const holder = leases.find((l) => l.address === text)
      if (holder && this.containerExists(holder.container)) return false
      if (holder) rmSync(join(dir, text), { force: true })
      try {
        writeFileSync(join(dir, text), container, { flag: 'wx' })
        return true
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
        throw err
      }
    }
    if (wanted) {
      const address = parseAddress(wanted)
      if (address === undefined) throw new EngineError('invalid', `"${wanted}" is not an IPv4 address`)
      if (!contains(subnet, address)) throw new EngineError('invalid', `address ${wanted} is not in network ${network.name}'s subnet ${network.subnet}`)
      if (reserved.has(address)) throw new EngineError('invalid', `address ${wanted} is reserved in network ${network.name} (network, gateway, broadcast or aux address)`)
      if (!(await take(address))) throw new EngineError('conflict', `address ${wanted} is already in use in network ${network.name}`)
      if (own) await rm(join(dir, own.address), { force: true })
      return wanted
    }
    const range = network.ipRange ? parseSubnet(network.ipRange)! : subnet
    for (let a = range.base; a < range.base + size(range); a++) {
      if (!reserved.has(a) && contains(subnet, a) && (await take(a))) return formatAddress(a)
    }
    throw new EngineError('conflict', `network ${network.name} has no free address left in ${network.ipRange ?? network.subnet}`)
  }

  /** Frees every address `container` holds, in every network of this root. */
  async release(container: string): Promise<void> {
    for (const network of await this.list()) {
      for (const l of await this.leases(network)) {
        if (l.container === container) rmSync(join(this.dir, network.id, 'leases', l.address), { force: true })
      }
    }
  }
}

/** The network as the engine contract reports it. */
export function describeNetwork(n: NetworkRecord): Network {
  return { ...n, subnets: [{ subnet: n.subnet, gateway: n.gateway }] }
}

function ipamConfig(spec: NetworkSpec): { subnet?: Subnet; ipRange?: Subnet; gateway?: number } {
  const configs = spec.ipam ?? []
  if (configs.length > 1) throw new EngineError('unsupported', `network ${spec.name}: the embedded engine takes one ipam config (an IPv4 subnet), not ${configs.length}`)
  const c = configs[0]
  if (!c) return {}
  const where = `network ${spec.name}: ipam`
  const subnet = c.subnet !== undefined ? parseSubnet(c.subnet) : undefined
  if (c.subnet !== undefined && !subnet) throw new EngineError('invalid', `${where} subnet "${c.subnet}" is not an IPv4 subnet such as 10.5.0.0/24 (IPv6 is not supported yet)`)
  if (subnet && subnet.prefix > 30) throw new EngineError('invalid', `${where} subnet ${c.subnet} is too small: use /30 or larger`)
  const ipRange = c.ipRange !== undefined ? parseSubnet(c.ipRange) : undefined
  if (c.ipRange !== undefined && (!ipRange || !subnet || !contains(subnet, ipRange.base) || ipRange.prefix < subnet.prefix)) {
    throw new EngineError('invalid', `${where} ip_range "${c.ipRange}" must be a subnet inside the subnet${c.subnet ? ` ${c.subnet}` : ' (give one)'}`)
  }
  const gateway = c.gateway !== undefined ? parseAddress(c.gateway) : undefined
  if (c.gateway !== undefined && (gateway === undefined || !subnet || !contains(subnet, gateway))) {
    throw new EngineError('invalid', `${where} gateway "${c.gateway}" must be an address inside the subnet${c.subnet ? ` ${c.subnet}` : ' (give one)'}`)
  }
  for (const [name, address] of Object.entries(c.auxAddresses ?? {})) {
    const n = parseAddress(address)
    if (n === undefined || !subnet || !contains(subnet, n)) throw new EngineError('invalid', `${where} aux address ${name}: "${address}" must be an address inside the subnet`)
  }
  return { ...(subnet ? { subnet } : {}), ...(ipRange ? { ipRange } : {}), ...(gateway !== undefined ? { gateway } : {}) }
}

async function readRecord(dir: string): Promise<NetworkRecord | undefined> {
  try {
    return JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkRecord
  } catch {
    return undefined
  }
}

async function writeRecord(dir: string, record: NetworkRecord): Promise<void> {
  const temp = join(dir, `network.json.${process.pid}.tmp`)
  await writeFile(temp, JSON.stringify(record))
  await rename(temp, join(dir, 'network.json'))
}


/** A small file's text, or '' when it is missing. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

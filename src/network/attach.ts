import { randomInt } from 'node:crypto'
import type { NetworkAttachment } from '../engine/engine.js'
import { Batcher } from './batch.js'
import { ipBatch, linkExists, netnsExists, netnsPath } from './ip.js'
import type { NetworkStore } from './networks.js'
import { parseSubnet } from './subnet.js'

/** One of a container's interfaces: `eth<n>` inside, a veth on the network's bridge outside. */
export interface Interface {
  network: string
  networkId: string
  bridge: string
  /** The name inside the container: eth0, eth1, … in priority order. */
  name: string
  hostVeth: string
  address: string
  prefix: number
  gateway: string
  internal: boolean
  mtu?: number
  mac?: string
  aliases: string[]
  /** The default host IP for ports published through this network. */
  hostBindingIp?: string
}

/** A container's network namespace and interfaces; kept in the container's directory as network.json. */
export interface ContainerNetworking {
  netns: string
  /** The path runc joins. */
  netnsPath: string
  interfaces: Interface[]
}

/** Names derived from the container ID alone, so clean-up finds them even when nothing was recorded. */
export function netnsName(containerId: string): string {
  return `pier-${containerId.slice(0, 16)}`
}

export function hostVethName(containerId: string, index: number): string {
  return `pv${containerId.slice(0, 11)}${index.toString(36)}`
}

/**
 * Gives a container its network namespace with one interface per network.
 * Addresses are leased first (the container keeps them until it is
 * removed); the namespace is built only when it is missing or incomplete, so
 * starting a stopped container, or one whose start was interrupted, reuses
 * or repairs it.
 */
export async function attach(store: NetworkStore, containerId: string, attachments: NetworkAttachment[]): Promise<ContainerNetworking> {
  // Higher priority first, as Compose orders a service's networks; eth0 carries the default route.
  const ordered = attachments.map((a, i) => ({ a, i })).sort((x, y) => (y.a.priority ?? 0) - (x.a.priority ?? 0) || x.i - y.i).map((x) => x.a)
  const netns = netnsName(containerId)
  const interfaces: Interface[] = []
  for (const [index, attachment] of ordered.entries()) {
    const network = await store.require(attachment.network)
    const address = await store.lease(network, containerId, attachment.ipv4Address)
    interfaces.push({
      network: network.name,
      networkId: network.id,
      bridge: network.bridge,
      name: `eth${index}`,
      hostVeth: hostVethName(containerId, index),
      address,
      prefix: parseSubnet(network.subnet)!.prefix,
      gateway: network.gateway,
      internal: network.internal,
      ...(network.mtu ? { mtu: network.mtu } : {}),
      mac: attachment.macAddress ?? macFor(address),
      aliases: attachment.aliases,
      ...(network.hostBindingIp ? { hostBindingIp: network.hostBindingIp } : {}),
    })
    await store.ensureBridge(network)
  }

  const complete = netnsExists(netns) && interfaces.every((i) => linkExists(i.hostVeth))
  if (!complete) {
    await teardown(containerId, interfaces.length)
    await ipBatch([
      `netns add ${netns}`,
      ...interfaces.flatMap((i) => {
        const mtu = i.mtu ? ` mtu ${i.mtu}` : ''
        return [`link add ${i.hostVeth}${mtu} type veth peer name ${i.name}${mtu} netns ${netns}`, `link set ${i.hostVeth} master ${i.bridge} up`]
      }),
    ])
    const route = interfaces.find((i) => !i.internal)
    await ipBatch(
      [
        'link set lo up',
        ...interfaces.flatMap((i) => [...(i.mac ? [`link set ${i.name} address ${i.mac}`] : []), `addr add ${i.address}/${i.prefix} dev ${i.name}`, `link set ${i.name} up`]),
        ...(route ? [`route add default via ${route.gateway} dev ${route.name}`] : []),
      ],
      { netns },
    ).catch(async (err) => {
      await teardown(containerId, interfaces.length)
      throw err
    })
  }
  return { netns, netnsPath: netnsPath(netns), interfaces }
}

/**
 * Removes a container's namespace and host veths (deleting one end of a
 * pair deletes both at once; a namespace alone goes asynchronously) and
 * frees its addresses.
 */
export async function detach(store: NetworkStore, containerId: string, interfaceCount = 8): Promise<void> {
  await teardown(containerId, interfaceCount)
  await store.release(containerId)
}

/**
 * The teardowns of containers removed side by side share one `ip -force
 * -batch` (a failed line does not stop the others), and their veths go in
 * one deletion: each `link del` of a veth waits for an RCU grace period
 * under the kernel's rtnl lock (~20-30 ms here, one after another), while
 * `link del group N` removes every device of the group, peers included, with
 * one. The group is a random number of this batch's own (devices are in
 * group 0 unless someone sets it), given to the veths just before.
 */
const teardowns = new Batcher<{ veths: string[]; netns?: string }>((items) => {
  const veths = items.flatMap((i) => i.veths)
  const group = 1_000_000 + randomInt(2 ** 31 - 1_000_001)
  const lines = veths.length ? [...veths.map((v) => `link set dev ${v} group ${group}`), `link del group ${group}`] : []
  for (const i of items) if (i.netns) lines.push(`netns del ${i.netns}`)
  return ipBatch(lines, { force: true })
})

async function teardown(containerId: string, interfaceCount: number): Promise<void> {
  const veths = Array.from({ length: Math.max(interfaceCount, 1) }, (_, i) => hostVethName(containerId, i)).filter(linkExists)
  const netns = netnsExists(netnsName(containerId)) ? netnsName(containerId) : undefined
  if (veths.length || netns) await teardowns.add([{ veths, ...(netns ? { netns } : {}) }])
}

/**
 * The MAC address of an interface with no `mac_address`: derived from its
 * IPv4 address (02:42 and the four bytes, as Docker derived them), so a
 * container recreated on the address its predecessor had answers with the
 * same MAC, and peers' ARP caches stay right: a random one left peers
 * sending to the old MAC for ~30 s after a recreate.
 */
export function macFor(address: string): string {
  return ['02', '42', ...address.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':')
}

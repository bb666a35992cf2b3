import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { run } from './ip.js'

/**
 * A network's packet rules, one nftables table per network (`pier_<bridge>`),
 * so adding or removing a network touches nothing else and a leftover is
 * easy to spot in `nft list tables`:
 * - isolation: nothing is forwarded from this bridge to another pier bridge;
 * - internal networks: nothing is forwarded in or out at all;
 * - other networks: outbound traffic leaves masqueraded as the host.
 * Without nft on the host, networks get no rules and forwarding stays as the
 * host has it (off by default): containers reach each other and the host, not
 * beyond, and the README says so.
 */
export function firewallAvailable(): boolean {
  return ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].some((p) => existsSync(p))
}

export function firewallTable(bridge: string): string {
  return `pier_${bridge.replace(/[^a-zA-Z0-9]/g, '_')}`
}

export interface FirewallNetwork {
  bridge: string
  subnet: string
  internal: boolean
  masquerade: boolean
}

/** Writes the network's table, replacing any earlier one atomically (one nft transaction). Returns whether rules are in place. */
export async function applyFirewall(n: FirewallNetwork): Promise<boolean> {
  if (!firewallAvailable()) return false
  const table = firewallTable(n.bridge)
  const br = `"${n.bridge}"`
  const forward = [`iifname ${br} oifname "pier-*" oifname != ${br} drop`, ...(n.internal ? [`iifname ${br} oifname != ${br} drop`, `oifname ${br} iifname != ${br} drop`] : [])]
  const nat = !n.internal && n.masquerade ? [`  chain postrouting {`, `    type nat hook postrouting priority srcnat; policy accept;`, `    ip saddr ${n.subnet} oifname != ${br} masquerade`, `  }`] : []
  const rules = [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    ...forward.map((r) => `    ${r}`),
    `  }`,
    ...nat,
    `}`,
  ].join('\n')
  const result = await run('nft', ['-f', '-'], rules + '\n')
  if (result.code !== 0) return false
  // Routing out of a bridge needs forwarding on, as Docker turns it on.
  if (nat.length) await writeFile('/proc/sys/net/ipv4/ip_forward', '1').catch(() => undefined)
  return true
}

export async function removeFirewall(bridge: string): Promise<void> {
  if (!firewallAvailable()) return
  await run('nft', ['delete', 'table', 'ip', firewallTable(bridge)])
}

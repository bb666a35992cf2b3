import { EngineError } from '../engine/errors.js'
import { run } from './ip.js'
import { formatSubnet, overlaps, parseAddress, parseSubnet, split, type Subnet } from './subnet.js'

/**
 * Where networks get their subnets when ipam gives none: PIER_ADDRESS_POOL,
 * one or more `CIDR[:SIZE]` separated by commas or spaces (SIZE: the prefix
 * length of each network, default 24). The default, 10.200.0.0/16 in /24s,
 * gives 256 networks and keeps out of Docker's 172.17-31 and 192.168 pools,
 * so pier and dockerd can share a host.
 */
export const DEFAULT_POOL = '10.200.0.0/16:24'

export interface Pool {
  base: Subnet
  size: number
}

export function addressPools(text = process.env.PIER_ADDRESS_POOL || DEFAULT_POOL): Pool[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((item) => {
      const [cidr, sizeText] = item.split(':')
      const base = parseSubnet(cidr)
      const size = sizeText === undefined ? Math.max(24, base?.prefix ?? 24) : Number(sizeText)
      if (!base || !Number.isInteger(size) || size < base.prefix || size > 30) {
        throw new EngineError('invalid', `PIER_ADDRESS_POOL: "${item}" is not CIDR[:SIZE] (such as ${DEFAULT_POOL}, SIZE from the CIDR's prefix to 30)`)
      }
      return { base, size }
    })
}

export interface Route {
  subnet: Subnet
  dev?: string
}

/** Every IPv4 route of the host, in all tables, except default routes. */
export async function hostRoutes(): Promise<Route[]> {
  const { code, stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])
  if (code !== 0) return []
  const routes: Route[] = []
  for (const r of JSON.parse(stdout || '[]') as { dst?: string; dev?: string; type?: string }[]) {
    if (!r.dst || r.dst === 'default' || r.type === 'broadcast') continue
    const subnet = r.dst.includes('/') ? parseSubnet(r.dst, true) : parseAddress(r.dst) !== undefined ? { base: parseAddress(r.dst)!, prefix: 32 } : undefined
    if (subnet) routes.push({ subnet, ...(r.dev ? { dev: r.dev } : {}) })
  }
  return routes
}

/** The first subnet of the pools that overlaps no route in `taken`. */
export function chooseSubnet(taken: Route[], network: string, pools = addressPools()): Subnet {
  for (const pool of pools) {
    for (const candidate of split(pool.base, pool.size)) {
      if (!taken.some((r) => overlaps(r.subnet, candidate))) return candidate
    }
  }
  throw new EngineError('conflict', `network ${network}: no free subnet left in the address pool ${pools.map((p) => `${formatSubnet(p.base)}:${p.size}`).join(', ')}; remove unused networks or set PIER_ADDRESS_POOL`)
}

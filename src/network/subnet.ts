/**
 * IPv4 subnets as numbers: enough arithmetic for address management
 * (parsing, containment, overlap, the n-th address) without a library.
 */
export interface Subnet {
  /** The network address, as an unsigned 32-bit number. */
  base: number
  prefix: number
}

export function parseAddress(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined
  return parts.reduce((n, p) => n * 256 + Number(p), 0)
}

export function formatAddress(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/** `10.1.0.0/16`; the host bits must be zero unless `loose` (a route or an ip_range written with them). */
export function parseSubnet(text: string, loose = false): Subnet | undefined {
  const [addr, bits, extra] = text.split('/')
  if (extra !== undefined || bits === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined
  const n = parseAddress(addr)
  if (n === undefined) return undefined
  const prefix = Number(bits)
  const base = (n & mask(prefix)) >>> 0
  if (!loose && base !== n) return undefined
  return { base, prefix }
}

export function formatSubnet(s: Subnet): string {
  return `${formatAddress(s.base)}/${s.prefix}`
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

export function size(s: Subnet): number {
  return 2 ** (32 - s.prefix)
}

export function contains(s: Subnet, address: number): boolean {
  return ((address & mask(s.prefix)) >>> 0) === s.base
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix)
  return ((a.base & mask(prefix)) >>> 0) === ((b.base & mask(prefix)) >>> 0)
}

/** The subnets of `prefix` bits inside `pool`, in order. */
export function* split(pool: Subnet, prefix: number): Generator<Subnet> {
  const step = 2 ** (32 - prefix)
  for (let base = pool.base; base < pool.base + size(pool); base += step) yield { base, prefix }
}

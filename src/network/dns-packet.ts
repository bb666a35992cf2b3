/**
 * The little of the DNS wire format (RFC 1035) that pier's name server
 * needs: read a query's question, and write an answer of A records, an empty
 * answer or an error. Hand-written rather than taken from dns-packet (which
 * is well kept): the server never decodes anything else, since forwarded
 * queries and their replies are relayed byte for byte, and this runs in the
 * container monitor, whose start time every `up` pays (bench/RESULTS.md), so
 * it loads no CommonJS dependency tree.
 */

export const TYPE_A = 1
export const TYPE_AAAA = 28
export const TYPE_ANY = 255
const CLASS_IN = 1

export const RCODE_NOERROR = 0
export const RCODE_FORMERR = 1
export const RCODE_SERVFAIL = 2
export const RCODE_NXDOMAIN = 3
export const RCODE_NOTIMP = 4

export interface Query {
  id: number
  /** The header's flags as sent; RD is echoed back. */
  flags: number
  /** Lower-case, without the trailing dot. */
  name: string
  type: number
  class: number
  /** The question as it is on the wire, copied into the answer. */
  question: Buffer
}

/** Reads a query's header and first question; undefined when the packet is not a query this server can read. */
export function parseQuery(packet: Buffer): Query | undefined {
  if (packet.length < 12) return undefined
  const flags = packet.readUInt16BE(2)
  const isResponse = flags & 0x8000
  const opcode = (flags >> 11) & 0xf
  if (isResponse || opcode !== 0 || packet.readUInt16BE(4) < 1) return undefined
  const read = readName(packet, 12)
  if (!read || read.end + 4 > packet.length) return undefined
  return {
    id: packet.readUInt16BE(0),
    flags,
    name: read.name,
    type: packet.readUInt16BE(read.end),
    class: packet.readUInt16BE(read.end + 2),
    question: packet.subarray(12, read.end + 4),
  }
}

/**
 * A name at `offset`, following compression pointers (RFC 1035 4.1.4), each
 * only backwards so a loop cannot run forever; `end` is where the name ends
 * in the packet at `offset` (after the first pointer, if any).
 */
export function readName(packet: Buffer, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = []
  let at = offset
  let end: number | undefined
  let length = 0
  for (;;) {
    if (at >= packet.length) return undefined
    const len = packet[at]
    if (len === 0) {
      end ??= at + 1
      break
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= packet.length) return undefined
      const target = ((len & 0x3f) << 8) | packet[at + 1]
      if (target >= at) return undefined
      end ??= at + 2
      at = target
      continue
    }
    if (len & 0xc0) return undefined
    if (at + 1 + len > packet.length) return undefined
    labels.push(packet.toString('latin1', at + 1, at + 1 + len).toLowerCase())
    length += len + 1
    if (length > 255) return undefined
    at += 1 + len
  }
  return { name: labels.join('.'), end }
}

/** Encodes a name without compression. */
export function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean)
  const parts = labels.flatMap((l) => {
    const bytes = Buffer.from(l, 'latin1')
    if (bytes.length > 63) throw new Error(`label too long: ${l}`)
    return [Buffer.from([bytes.length]), bytes]
  })
  return Buffer.concat([...parts, Buffer.from([0])])
}

/** A query for `name` (used by tests and to probe a server). */
export function encodeQuery(id: number, name: string, type = TYPE_A): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(id, 0)
  header.writeUInt16BE(0x0100, 2) // RD
  header.writeUInt16BE(1, 4)
  const tail = Buffer.alloc(4)
  tail.writeUInt16BE(type, 0)
  tail.writeUInt16BE(CLASS_IN, 2)
  return Buffer.concat([header, encodeName(name), tail])
}

/**
 * The answer to `query`: `addresses` as A records (each pointing back at the
 * question's name, offset 12), authoritative, recursion available, with the
 * rcode given. A query without a readable question gets FORMERR with no question.
 */
export function encodeAnswer(query: Query, addresses: string[], rcode = RCODE_NOERROR, ttl = 600): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(query.id, 0)
  // QR, AA, RD as asked, RA.
  header.writeUInt16BE(0x8000 | 0x0400 | (query.flags & 0x0100) | 0x0080 | (rcode & 0xf), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(addresses.length, 6)
  const records = addresses.map((address) => {
    const rr = Buffer.alloc(16)
    rr.writeUInt16BE(0xc00c, 0)
    rr.writeUInt16BE(TYPE_A, 2)
    rr.writeUInt16BE(CLASS_IN, 4)
    rr.writeUInt32BE(ttl, 6)
    rr.writeUInt16BE(4, 10)
    address.split('.').forEach((b, i) => rr.writeUInt8(Number(b), 12 + i))
    return rr
  })
  return Buffer.concat([header, query.question, ...records])
}

/** An error reply to a packet that could not be read as a query (same ID, no question). */
export function encodeError(packet: Buffer, rcode: number): Buffer | undefined {
  if (packet.length < 2) return undefined
  const header = Buffer.alloc(12)
  header.writeUInt16BE(packet.readUInt16BE(0), 0)
  header.writeUInt16BE(0x8000 | 0x0080 | (rcode & 0xf), 2)
  return header
}

/** The A records of a reply, for tests and probes: [rcode, addresses]. */
export function decodeAnswer(packet: Buffer): { id: number; rcode: number; addresses: string[] } {
  const id = packet.readUInt16BE(0)
  const rcode = packet.readUInt16BE(2) & 0xf
  const questions = packet.readUInt16BE(4)
  const answers = packet.readUInt16BE(6)
  let at = 12
  for (let i = 0; i < questions; i++) at = readName(packet, at)!.end + 4
  const addresses: string[] = []
  for (let i = 0; i < answers; i++) {
    at = readName(packet, at)!.end
    const type = packet.readUInt16BE(at)
    const len = packet.readUInt16BE(at + 8)
    if (type === TYPE_A && len === 4) addresses.push([...packet.subarray(at + 10, at + 14)].join('.'))
    at += 10 + len
  }
  return { id, rcode, addresses }
}

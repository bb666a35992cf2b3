import assert from 'node:assert/strict'
import { decodeAnswer, encodeAnswer, encodeError, encodeName, encodeQuery, parseQuery, RCODE_NXDOMAIN, readName, TYPE_A, TYPE_AAAA, TYPE_ANY } from '../../src/network/dns-packet.js'
import { answer, hostsNames, type View } from '../../src/network/dns.js'
import { resolvConf, upstreamServers } from '../../src/network/names.js'

/** A query as dig sends it for web.example (ID 0xbeef, RD, one question, an EDNS OPT record after it). */
const DIG = Buffer.from('beef0120000100000000000103776562076578616d706c65000001000100002904d000000000000c000a00089f0a5c1f7c2e1f1b', 'hex')

describe('network: the DNS wire format', () => {
  it('reads the question of a real query, lower-cased, and ignores the additional records', () => {
    const q = parseQuery(DIG)!
    assert.equal(q.id, 0xbeef)
    assert.equal(q.name, 'web.example')
    assert.equal(q.type, TYPE_A)
    assert.equal(q.class, 1)
    assert.deepEqual(q.question, DIG.subarray(12, 12 + 13 + 4))
    assert.equal(parseQuery(encodeQuery(1, 'WeB.Example.', TYPE_AAAA))!.name, 'web.example')
  })

  it('refuses what is not a query it can read', () => {
    assert.equal(parseQuery(Buffer.alloc(5)), undefined, 'shorter than a header')
    const response = Buffer.from(DIG)
    response[2] |= 0x80
    assert.equal(parseQuery(response), undefined, 'a response')
    const noQuestion = Buffer.from(DIG)
    noQuestion.writeUInt16BE(0, 4)
    assert.equal(parseQuery(noQuestion), undefined, 'no question')
    assert.equal(parseQuery(DIG.subarray(0, 20)), undefined, 'a name cut short')
    const error = encodeError(DIG.subarray(0, 5), 1)!
    assert.equal(error.readUInt16BE(0), 0xbeef)
    assert.equal(error.readUInt16BE(2) & 0x800f, 0x8001)
  })

  it('follows compression pointers backwards only, so a loop cannot hang it', () => {
    // 'web' at 12, then 'x' and a pointer to 12: x.web
    const packet = Buffer.concat([Buffer.alloc(12), encodeName('web'), Buffer.from([1, 0x78, 0xc0, 12])])
    assert.deepEqual(readName(packet, 17), { name: 'x.web', end: 21 })
    const loop = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 12])])
    assert.equal(readName(loop, 12), undefined)
    const forward = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 14, 0])])
    assert.equal(readName(forward, 12), undefined)
    assert.equal(readName(Buffer.concat([Buffer.alloc(12), Buffer.from([0x80, 1])]), 12), undefined, 'reserved label type')
    assert.throws(() => encodeName('a'.repeat(64)))
  })

  it('writes answers that point back at the question', () => {
    const q = parseQuery(DIG)!
    const reply = encodeAnswer(q, ['10.0.0.2', '10.0.0.3'])
    assert.equal(reply.readUInt16BE(2), 0x8580, 'QR AA RD RA, NOERROR')
    assert.deepEqual(decodeAnswer(reply), { id: 0xbeef, rcode: 0, addresses: ['10.0.0.2', '10.0.0.3'] })
    assert.equal(reply.readUInt16BE(12 + 17), 0xc00c)
    assert.deepEqual(decodeAnswer(encodeAnswer(q, [], RCODE_NXDOMAIN)), { id: 0xbeef, rcode: RCODE_NXDOMAIN, addresses: [] })
  })
})

describe('network: what pier\'s DNS server answers', () => {
  const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost', '10.0.0.5\tabc123', '10.0.0.2\tfront', '10.0.0.2\tp-web-1 web www', '10.0.0.3\tp-web-2 web www', '# a comment', ''].join('\n')
  const view: View = { names: hostsNames(hosts), search: ['corp.example'], upstream: ['192.0.2.53'] }
  const ask = (name: string, type = TYPE_A) => answer(parseQuery(encodeQuery(9, name, type))!, view)
  const addresses = (reply: Buffer | 'forward') => (reply === 'forward' ? reply : decodeAnswer(reply))

  it('reads /etc/hosts: IPv4 lines, every address of a name in order, names case-insensitive', () => {
    assert.deepEqual(view.names.get('web'), ['10.0.0.2', '10.0.0.3'])
    assert.deepEqual(view.names.get('localhost'), ['127.0.0.1'])
    assert.equal(view.names.get('ip6-localhost'), undefined)
    assert.deepEqual(hostsNames('10.0.0.9 Mixed.Case.\n').get('mixed.case'), ['10.0.0.9'])
  })

  it('answers a known name with its addresses (A, ANY), an empty NOERROR for AAAA, NXDOMAIN for an unknown single label, and forwards the rest', () => {
    assert.deepEqual(addresses(ask('web')), { id: 9, rcode: 0, addresses: ['10.0.0.2', '10.0.0.3'] })
    assert.deepEqual(addresses(ask('P-WEB-2', TYPE_ANY)), { id: 9, rcode: 0, addresses: ['10.0.0.3'] })
    assert.deepEqual(addresses(ask('web', TYPE_AAAA)), { id: 9, rcode: 0, addresses: [] })
    assert.deepEqual(addresses(ask('db')), { id: 9, rcode: RCODE_NXDOMAIN, addresses: [] })
    assert.equal(ask('example.org'), 'forward')
    assert.equal(ask('db.corp.example'), 'forward')
  })

  it('takes a known name followed by a search domain as the name (busybox nslookup asks only that)', () => {
    assert.deepEqual(addresses(ask('www.corp.example')), { id: 9, rcode: 0, addresses: ['10.0.0.2', '10.0.0.3'] })
    assert.equal(ask('www.other.example'), 'forward')
  })

  it('points resolv.conf at the gateway, the non-loopback upstream servers after it, and keeps dns: servers as upstream', () => {
    const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch corp.example\n'
    assert.equal(resolvConf(host, [], [], [], '10.200.0.1'), 'nameserver 10.200.0.1\nnameserver 192.0.2.53\nsearch corp.example\n')
    assert.equal(resolvConf(host, ['127.0.0.153'], ['.'], [], '10.200.0.1'), 'nameserver 10.200.0.1\nsearch .\n')
    assert.equal(resolvConf(host, ['192.0.2.1', '192.0.2.2', '192.0.2.3'], [], [], '10.200.0.1'), 'nameserver 10.200.0.1\nnameserver 192.0.2.1\nnameserver 192.0.2.2\nsearch corp.example\n')
    assert.deepEqual(upstreamServers(host, []), ['192.0.2.53'])
    assert.deepEqual(upstreamServers(host, ['127.0.0.153']), ['127.0.0.153'])
  })
})

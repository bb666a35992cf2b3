import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeAnswer, encodeAnswer, encodeQuery, parseQuery, RCODE_SERVFAIL } from '../../src/network/dns-packet.js'
import { NameServers, UPSTREAM_FILE } from '../../src/network/dns.js'

/**
 * The server itself on the host's loopback, no container: 127.0.0.154 plays
 * the gateway, 127.0.0.155 a container holding a lease, 127.0.0.156 the
 * upstream resolver. Nothing is sent anywhere else.
 */
const GATEWAY = '127.0.0.154'
const CONTAINER = '127.0.0.155'
const UPSTREAM = '127.0.0.156'
const ID = 'a'.repeat(64)

function udpQuery(name: string, from = CONTAINER): Promise<ReturnType<typeof decodeAnswer> | 'timeout'> {
  return new Promise((resolve) => {
    const s = createSocket('udp4')
    const timer = setTimeout(() => {
      s.close()
      resolve('timeout')
    }, 3000)
    s.on('message', (m) => {
      clearTimeout(timer)
      s.close()
      resolve(decodeAnswer(m))
    })
    s.bind(0, from, () => s.send(encodeQuery(42, name), 53, GATEWAY))
  })
}

function tcpQuery(name: string): Promise<ReturnType<typeof decodeAnswer>> {
  return new Promise((resolve, reject) => {
    const q = encodeQuery(43, name)
    const len = Buffer.alloc(2)
    len.writeUInt16BE(q.length)
    const c = connect({ host: GATEWAY, port: 53, localAddress: CONTAINER }, () => c.write(Buffer.concat([len, q])))
    let got = Buffer.alloc(0)
    c.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d])
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        c.destroy()
        resolve(decodeAnswer(got.subarray(2)))
      }
    })
    c.on('error', reject)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('network: the DNS server of the monitors', function () {
  this.timeout(20_000)
  let root: string
  let upstream: Socket
  let upstreamTcp: Server
  const network = { networkId: 'n'.repeat(64), gateway: GATEWAY }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'pier-dns-'))
    mkdirSync(join(root, 'networks', network.networkId, 'leases'), { recursive: true })
    writeFileSync(join(root, 'networks', network.networkId, 'leases', CONTAINER), ID)
    mkdirSync(join(root, 'containers', ID, 'etc'), { recursive: true })
    writeFileSync(join(root, 'containers', ID, 'etc', 'hosts'), '127.0.0.1\tlocalhost\n10.0.0.2\tp-web-1 web\n10.0.0.3\tp-web-2 web\n')
    writeFileSync(join(root, 'containers', ID, 'etc', 'resolv.conf'), `nameserver ${GATEWAY}\n`)
    writeFileSync(join(root, 'containers', ID, 'etc', UPSTREAM_FILE), `${UPSTREAM}\n`)
    upstream = createSocket('udp4')
    upstream.on('message', (m, from) => upstream.send(encodeAnswer(parseQuery(m)!, ['192.0.2.9']), from.port, from.address))
    await new Promise<void>((r) => upstream.bind(53, UPSTREAM, r))
    // Over TCP the upstream answers another address, so a test can tell which way the query went.
    upstreamTcp = createServer((conn) =>
      conn.once('data', (d: Buffer) => {
        const reply = encodeAnswer(parseQuery(d.subarray(2))!, ['192.0.2.10'])
        const len = Buffer.alloc(2)
        len.writeUInt16BE(reply.length)
        conn.end(Buffer.concat([len, reply]))
      }),
    )
    await new Promise<void>((r) => upstreamTcp.listen(53, UPSTREAM, r))
  })
  after(() => {
    upstream.close()
    upstreamTcp.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('answers over UDP and TCP from the asking container\'s /etc/hosts, read at each query, and forwards other names', async () => {
    const stop = new NameServers(root).serve([network])
    try {
      await sleep(100)
      assert.deepEqual(await udpQuery('web'), { id: 42, rcode: 0, addresses: ['10.0.0.2', '10.0.0.3'] })
      assert.deepEqual(await tcpQuery('p-web-2'), { id: 43, rcode: 0, addresses: ['10.0.0.3'] })
      writeFileSync(join(root, 'containers', ID, 'etc', 'hosts'), '10.0.0.4\tp-web-3 web\n')
      assert.deepEqual(await udpQuery('web'), { id: 42, rcode: 0, addresses: ['10.0.0.4'] })
      assert.deepEqual(await udpQuery('example.org'), { id: 42, rcode: 0, addresses: ['192.0.2.9'] })
      assert.deepEqual(await tcpQuery('example.org'), { id: 43, rcode: 0, addresses: ['192.0.2.10'] }, 'a TCP query is forwarded over TCP')
      // An address that is no container's lease (the host itself) gets SERVFAIL, never a forward.
      assert.deepEqual(await udpQuery('example.org', GATEWAY), { id: 42, rcode: RCODE_SERVFAIL, addresses: [] })
    } finally {
      stop()
    }
  })

  it('shares the port between monitors: when the serving one stops, another answers (UDP at once, TCP within a second)', async () => {
    const first = new NameServers(root).serve([network])
    await sleep(100)
    const second = new NameServers(root)
    const stopSecond = second.serve([network])
    const again = second.serve([network])
    try {
      await sleep(100)
      assert.notEqual(await udpQuery('web'), 'timeout')
      first()
      assert.notEqual(await udpQuery('web'), 'timeout', 'UDP right after the first closed')
      await sleep(1500)
      assert.equal((await tcpQuery('web')).rcode, 0, 'TCP taken over')
      stopSecond()
      assert.notEqual(await udpQuery('web'), 'timeout', 'still served while one container needs it')
    } finally {
      again()
    }
    assert.equal(await udpQuery('web'), 'timeout', 'nothing serves once every user let go')
  })
})

import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { decodeAnswer, encodeAnswer, parseQuery, RCODE_NXDOMAIN } from '../../src/network/dns-packet.js'
import { EngineProject } from '../support/engine-project.js'
import { assertNoMonitor } from '../support/containers.js'

const execAsync = promisify(execFile)

/** Where the containers' other names go: a fake resolver on the host's loopback, so no query leaves this machine. */
const UPSTREAM = '127.0.0.153'

/** Listening sockets on `address` port 53, from ss (both protocols). */
function listeners(address: string): string[] {
  return ['-lnu', '-lnt'].flatMap((flag) => execFileSync('ss', [flag, 'src', address], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`${address}:53 `)))
}

describe('pier containers resolve names through DNS', function () {
  this.timeout(120_000)
  let project: EngineProject
  let upstream: Socket
  const asked: string[] = []
  const name = `pier-dns-${process.pid}`

  before(async () => {
    // Answers outside.pier.test, NXDOMAIN for anything else, and notes every name it is asked.
    upstream = createSocket('udp4')
    upstream.on('message', (msg, from) => {
      const query = parseQuery(msg)
      if (!query) return
      asked.push(query.name)
      const reply = query.name === 'outside.pier.test' ? encodeAnswer(query, query.type === 1 ? ['192.0.2.7'] : []) : encodeAnswer(query, [], RCODE_NXDOMAIN)
      upstream.send(reply, from.port, from.address)
    })
    await new Promise<void>((resolve) => upstream.bind(53, UPSTREAM, resolve))
  })
  after(() => upstream.close())

  beforeEach(async () => {
    const resolver = `    dns: [${UPSTREAM}]\n    dns_search: [pier.test]\n`
    project = await EngineProject.create({
      'compose.yaml': `name: ${name}
services:
  web:
    image: busybox
    command: ["sleep", "600"]
    scale: 2
    networks:
      default:
        aliases: [www]
${resolver}  client:
    image: busybox
    command: ["sleep", "600"]
    links: ["web:front"]
${resolver}  hidden:
    image: busybox
    command: ["sleep", "600"]
    networks: [back]
${resolver}networks:
  back: {}
`,
    })
  })
  afterEach(() => project.dispose(['down', '-t', '0']))

  const idOf = (service: string) => project.run(['ps', '-q', service]).stdout.trim().split('\n')[0]
  /** Runs in the container through runc, without blocking this process, which runs the fake upstream. */
  const sh = async (service: string, script: string): Promise<{ code: number; out: string }> => {
    try {
      const { stdout, stderr } = await execAsync('runc', ['--root', join(project.root, 'runtime'), 'exec', idOf(service), 'sh', '-c', script], { encoding: 'utf8' })
      return { code: 0, out: stdout + stderr }
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string }
      return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout}${e.stderr}` }
    }
  }
  /** The IPv4 addresses nslookup printed for a name (after the Server/Address lines of the server itself). */
  const lookup = async (service: string, host: string, type = 'a') => {
    const { code, out } = await sh(service, `busybox nslookup -type=${type} ${host}`)
    const addresses = out
      .split('\n')
      .slice(2)
      .map((l) => /^Address:\s*(\d+\.\d+\.\d+\.\d+)$/.exec(l.trim())?.[1])
      .filter((a): a is string => !!a)
      .sort()
    return { code, out, addresses }
  }
  /** The addresses of a service's replicas on a network, from their records. */
  const addressesIn = async (service: string, network: string) => {
    const dir = join(project.root, 'containers')
    return readdirSync(dir)
      .filter((id) => (JSON.parse(readFileSync(join(dir, id, 'record.json'), 'utf8')) as { name: string }).name.startsWith(`${name}-${service}-`))
      .map((id) => (JSON.parse(readFileSync(join(dir, id, 'network.json'), 'utf8')) as { interfaces: { network: string; address: string }[] }).interfaces.find((i) => i.network === network)!.address)
      .sort()
  }

  it('answers service names, container names, aliases and links with every replica, and only on shared networks', async () => {
    const up = project.run(['up', '-d'])
    assert.equal(up.status, 0, up.stderr)
    const webs = await addressesIn('web', `${name}_default`)
    assert.equal(webs.length, 2)

    const resolv = (await sh('client', 'cat /etc/resolv.conf')).out
    const gateway = /^nameserver (\S+)$/m.exec(resolv)?.[1]
    assert.match(gateway ?? '', /^\d+\.\d+\.\d+\.1$/, resolv)
    assert.doesNotMatch(resolv, new RegExp(UPSTREAM.replace(/\./g, '\\.')), 'a loopback upstream is the server\'s, not the container\'s')

    // A link to a service links each replica under the alias, as /etc/hosts lists it.
    for (const host of ['web', 'www', 'WEB', 'front']) assert.deepEqual((await lookup('client', host)).addresses, webs, `nslookup ${host}`)
    const one = await lookup('client', `${name}-web-1`)
    assert.equal(one.addresses.length, 1, one.out)
    assert.ok(webs.includes(one.addresses[0]))
    // AAAA: the name exists, with no IPv6 address (NOERROR, no answer).
    const v6 = await lookup('client', 'web', 'aaaa')
    assert.deepEqual(v6.addresses, [])
    assert.doesNotMatch(v6.out, /NXDOMAIN/, v6.out)

    // hidden is on another network: client does not see it, nor hidden the others; unknown single labels are NXDOMAIN.
    for (const [asker, host] of [['client', 'hidden'], ['client', `${name}-hidden-1`], ['hidden', 'web'], ['client', 'nosuchname.']]) {
      const miss = await lookup(asker, host)
      assert.notEqual(miss.code, 0, `${asker} resolved ${host}: ${miss.out}`)
      assert.deepEqual(miss.addresses, [])
      assert.match(miss.out, /NXDOMAIN/)
    }
    assert.deepEqual((await lookup('hidden', 'hidden')).addresses.length, 1)
    // /etc/hosts still works, beside DNS.
    assert.match((await sh('client', 'ping -c1 -W2 web')).out, /1 packets received/)
  })

  it('follows containers as they come, forwards other names to the upstream, and leaves nothing after down', async () => {
    assert.equal(project.run(['up', '-d']).status, 0)
    const gateway = /^nameserver (\S+)$/m.exec((await sh('client', 'cat /etc/resolv.conf')).out)![1]
    assert.equal((await lookup('client', 'web')).addresses.length, 2)

    // A third replica, started after client: answered at once, client untouched.
    const clientId = idOf('client')
    const scale = project.run(['up', '-d', '--scale', 'web=3'])
    assert.equal(scale.status, 0, scale.stderr)
    assert.equal(idOf('client'), clientId)
    const three = await lookup('client', 'web')
    assert.deepEqual(three.addresses, await addressesIn('web', `${name}_default`), three.out)
    assert.equal((await lookup('client', 'web')).addresses.length, 3)

    // A name pier does not hold goes to the service's dns: server, here the fake one on the host's loopback.
    asked.length = 0
    const outside = await lookup('client', 'outside.pier.test')
    assert.deepEqual(outside.addresses, ['192.0.2.7'], outside.out)
    assert.ok(asked.includes('outside.pier.test'), `the upstream was asked: ${asked.join(', ')}`)
    const missing = await lookup('client', 'missing.pier.test')
    assert.match(missing.out, /NXDOMAIN/)
    // Over TCP too (busybox nslookup has no TCP: a raw query through nc is not in busybox either), so from the host.
    assert.ok(listeners(gateway).some((l) => l.startsWith('LISTEN')), `TCP 53 on ${gateway}`)

    const down = project.run(['down', '-t', '0'])
    assert.equal(down.status, 0, down.stderr)
    assert.deepEqual(listeners(gateway), [], 'nothing listens on the gateway after down')
    await assertNoMonitor(project.root)
  })

  it('is served while any pier process\'s containers run on the network, and by nothing once their monitors are gone', async () => {
    // Two pier processes, two monitors on one network: web's and client's.
    assert.equal(project.run(['up', '-d', 'web']).status, 0)
    assert.equal(project.run(['up', '-d', 'client']).status, 0)
    const gateway = /^nameserver (\S+)$/m.exec((await sh('client', 'cat /etc/resolv.conf')).out)![1]
    const monitors = () => execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('monitor.js') && l.includes(project.root)).map((l) => Number(l.trim().split(/\s+/)[0]))
    assert.equal(monitors().length, 2)
    assert.equal((await lookup('client', 'web')).addresses.length, 2)

    // web's monitor ends with its containers; client's answers on.
    assert.equal(project.run(['stop', '-t', '0', 'web']).status, 0)
    for (let i = 0; i < 100 && monitors().length > 1; i++) await new Promise((r) => setTimeout(r, 50))
    assert.equal(monitors().length, 1)
    assert.equal((await lookup('client', 'client')).addresses.length, 1)
    await new Promise((r) => setTimeout(r, 1500))
    assert.ok(listeners(gateway).some((l) => l.startsWith('LISTEN')), 'TCP taken over within a second')

    // A killed monitor leaves no server behind: the kernel closes its sockets.
    for (const pid of monitors()) process.kill(pid, 'SIGKILL')
    for (let i = 0; i < 100 && listeners(gateway).length > 0; i++) await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(listeners(gateway), [])
  })
})

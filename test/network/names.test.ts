import assert from 'node:assert/strict'
import { hostConf, hostsFile, resolvConf, type Endpoint } from '../../src/network/names.js'
import { addressPools, chooseSubnet } from '../../src/network/pool.js'
import { formatSubnet, parseSubnet } from '../../src/network/subnet.js'

const ep = (name: string, interfaces: Endpoint['interfaces'], extra: Partial<Endpoint> = {}): Endpoint => ({
  id: `${name.replace(/[^a-f0-9]/g, 'a')}0123456789abcdef`.slice(0, 64),
  name,
  hostname: name,
  interfaces,
  links: [],
  extraHosts: {},
  ...extra,
})

describe('network: /etc/hosts and resolv.conf', () => {
  it('lists peers on shared networks only, through the shared address, with every replica', () => {
    const web = ep('p-web-1', [{ network: 'front', address: '10.0.0.2', aliases: ['web'] }])
    const api1 = ep('p-api-1', [{ network: 'front', address: '10.0.0.3', aliases: ['api'] }, { network: 'back', address: '10.0.1.3', aliases: ['api'] }])
    const api2 = ep('p-api-2', [{ network: 'back', address: '10.0.1.4', aliases: ['api'] }])
    const db = ep('p-db-1', [{ network: 'back', address: '10.0.1.5', aliases: ['db', 'database'] }])
    const hosts = hostsFile(web, [web, api1, api2, db])
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost\n/)
    assert.match(hosts, /\n10\.0\.0\.2\tp-web-1\n/, 'its own hostname')
    assert.match(hosts, /\n10\.0\.0\.3\tp-api-1 api [0-9a-f]{12}\n/)
    assert.doesNotMatch(hosts, /10\.0\.1\./, 'nothing from a network web is not on')
    const fromDb = hostsFile(db, [web, api1, api2, db])
    assert.deepEqual(fromDb.split('\n').filter((l) => /\sapi\s/.test(l)).map((l) => l.split('\t')[0]), ['10.0.1.3', '10.0.1.4'])
    assert.match(fromDb, /10\.0\.1\.5\tp-db-1 db database/)
    assert.doesNotMatch(fromDb, /p-web-1/)
  })

  it('adds links (only in the linking container), extra_hosts and the domain name', () => {
    const db = ep('p-db-1', [{ network: 'n', address: '10.0.0.5', aliases: ['db'] }])
    const app = ep('p-app-1', [{ network: 'n', address: '10.0.0.6', aliases: ['app'] }], {
      hostname: 'app',
      domainname: 'example.test',
      links: [{ container: 'p-db-1', alias: 'database' }, { container: 'elsewhere', alias: 'gone' }],
      extraHosts: { 'host.docker.internal': ['192.0.2.1'], multi: ['192.0.2.2', '192.0.2.3'] },
    })
    const hosts = hostsFile(app, [db, app])
    assert.match(hosts, /\n10\.0\.0\.6\tapp\.example\.test app\n/)
    assert.match(hosts, /\n10\.0\.0\.5\tdatabase\n/)
    assert.doesNotMatch(hosts, /gone/)
    assert.match(hosts, /\n192\.0\.2\.1\thost\.docker\.internal\n192\.0\.2\.2\tmulti\n192\.0\.2\.3\tmulti\n/)
    assert.doesNotMatch(hostsFile(db, [db, app]), /database/)
  })

  it('a container with no network knows only itself as localhost and its extra hosts', () => {
    const lone = ep('p-x-1', [], { extraHosts: { a: ['192.0.2.9'] } })
    assert.equal(hostsFile(lone, []).split('\n').filter((l) => !l.includes('localhost') && !l.startsWith('f')).join('|'), '192.0.2.9\ta|')
  })

  it("writes resolv.conf from dns settings, else the host's, without loopback servers", () => {
    const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch corp.example\noptions edns0\n'
    assert.equal(resolvConf(host, [], [], []), 'nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n')
    assert.equal(resolvConf(host, ['192.0.2.1', '192.0.2.2'], ['a.example'], ['ndots:2']), 'nameserver 192.0.2.1\nnameserver 192.0.2.2\nsearch a.example\noptions ndots:2\n')
    assert.equal(resolvConf('nameserver 127.0.0.53\n', [], [], []), '\n')
  })

  it('turns multi on in the image host.conf, keeping its other lines', () => {
    assert.equal(hostConf(''), 'multi on\n')
    assert.equal(hostConf('order hosts,bind\nmulti off\n'), 'order hosts,bind\nmulti on\n')
  })
})

describe('network: address pools', () => {
  it('chooses the first subnet of the pool that no route overlaps', () => {
    const pools = addressPools('10.200.0.0/16:24')
    const taken = [{ subnet: parseSubnet('10.200.0.0/24')! }, { subnet: parseSubnet('10.200.1.7/32')! }, { subnet: parseSubnet('10.200.2.0/23')! }]
    assert.equal(formatSubnet(chooseSubnet(taken, 'n', pools)), '10.200.4.0/24')
    assert.equal(formatSubnet(chooseSubnet([{ subnet: parseSubnet('10.0.0.0/8')! }], 'n', addressPools('10.1.0.0/16, 192.168.200.0/24:26'))), '192.168.200.0/26')
  })

  it('says when the pool is full, and refuses a malformed pool', () => {
    assert.throws(() => chooseSubnet([{ subnet: parseSubnet('10.9.0.0/16')! }], 'proj_default', addressPools('10.9.0.0/16:24')), /network proj_default: no free subnet left in the address pool 10\.9\.0\.0\/16:24/)
    assert.throws(() => addressPools('10.9.0.0/33'), /PIER_ADDRESS_POOL: "10\.9\.0\.0\/33" is not CIDR\[:SIZE\]/)
    assert.throws(() => addressPools('10.9.0.0/16:8'), /is not CIDR\[:SIZE\]/)
  })
})

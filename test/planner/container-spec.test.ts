import assert from 'node:assert/strict'
import type { Image } from '../../src/engine/engine.js'
import { containerSpec } from '../../src/planner/container-spec.js'
import type { Project } from '../../src/spec/project.js'
import { load } from '../support/helpers.js'

function image(config: Partial<Image['config']> = {}): Image {
  return { id: 'sha256:img', tags: ['img'], digests: [], platform: { os: 'linux', architecture: 'amd64' }, size: 0, layers: [], config: { env: [], cmd: ['sh'], exposedPorts: [], volumes: [], labels: {}, ...config } }
}

async function project(yaml: string): Promise<Project> {
  return (await load({ 'compose.yaml': `name: demo\n${yaml}` })).project
}

const spec = (p: Project, service: string, img = image(), context = {}) => containerSpec(p, p.services[service], 1, img, `demo-${service}-1`, context)

describe('planner: container specs', () => {
  it('joins service: network, ipc and pid modes to the container_name of the other service', async () => {
    const p = await project(`services:
  db: {image: x, container_name: mydb}
  web: {image: x, network_mode: "service:db", ipc: "service:db", pid: "service:db"}
`)
    const s = spec(p, 'web')
    assert.equal(s.networkMode, 'container:mydb')
    assert.equal(s.ipc, 'container:mydb')
    assert.equal(s.pid, 'container:mydb')
  })

  it('links every replica of the linked service, --scale included, by its real names', async () => {
    const p = await project(`services:
  db: {image: x, scale: 2}
  solo: {image: x, container_name: the-one}
  web: {image: x, links: ["db:database", solo]}
`)
    assert.deepEqual(spec(p, 'web').links, ['demo-db-1:database', 'demo-db-2:database', 'the-one:solo'])
    assert.deepEqual(spec(p, 'web', image(), { scale: { db: 3 } }).links, ['demo-db-1:database', 'demo-db-2:database', 'demo-db-3:database', 'the-one:solo'])
  })

  it('applies the image defaults in one place: env under the service env, user, working dir', async () => {
    const p = await project(`services:
  web: {image: x, environment: {B: service}}
  own: {image: x, user: "1000", working_dir: /srv}
`)
    const img = image({ env: ['PATH=/bin', 'A=image', 'B=image'], user: 'nobody', workingDir: '/app' })
    const web = spec(p, 'web', img)
    assert.deepEqual(web.env, { PATH: '/bin', A: 'image', B: 'service' })
    assert.equal(web.user, 'nobody')
    assert.equal(web.workingDir, '/app')
    const own = spec(p, 'own', img)
    assert.equal(own.user, '1000')
    assert.equal(own.workingDir, '/srv')
  })

  it("mounts the image's VOLUMEs as anonymous volumes, unless the service mounts something there", async () => {
    const p = await project(`services:
  db: {image: x, volumes: ["data:/var/lib/db"]}
volumes: {data: {}}
`)
    const s = spec(p, 'db', image({ volumes: ['/var/lib/db', '/var/log/db/'] }))
    assert.deepEqual(
      s.mounts.map((m) => [m.type, 'source' in m ? m.source : '', m.target]),
      [
        ['volume', 'demo_data', '/var/lib/db'],
        ['volume', '', '/var/log/db'],
      ],
    )
  })

  it('takes over the anonymous volumes of the container it replaces, target by target', async () => {
    const p = await project(`services:
  db: {image: x, volumes: [/cache]}
`)
    const inherited = [
      { type: 'volume' as const, source: 'a'.repeat(64), target: '/cache', readOnly: false, anonymous: true },
      { type: 'volume' as const, source: 'b'.repeat(64), target: '/data', readOnly: false, anonymous: true },
    ]
    const s = spec(p, 'db', image({ volumes: ['/data', '/fresh'] }), { inherited })
    assert.deepEqual(
      s.mounts.map((m) => ('source' in m ? m.source : '')),
      ['a'.repeat(64), 'b'.repeat(64), ''],
    )
  })

  it('resolves volumes_from to container names with their mode, and carries the fields a driver may not honour', async () => {
    const p = await project(`services:
  data: {image: x, container_name: store}
  web:
    image: x
    volumes_from: ["data:ro", "container:other:rw"]
    group_add: [audio, "1234"]
    cgroup_parent: pier.slice
    mem_swappiness: 10
    oom_kill_disable: true
    logging: {driver: syslog}
`)
    const s = spec(p, 'web')
    assert.deepEqual(s.volumesFrom, ['store:ro', 'other:rw'])
    assert.deepEqual(s.groupAdd, ['audio', '1234'])
    assert.equal(s.cgroupParent, 'pier.slice')
    assert.equal(s.limits.memSwappiness, 10)
    assert.equal(s.limits.oomKillDisable, true)
    assert.deepEqual(s.logging, { driver: 'syslog', options: {} })
  })
})

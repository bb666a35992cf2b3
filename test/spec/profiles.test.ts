import assert from 'node:assert/strict'
import { load, loadFails } from '../support/helpers.js'

const files = {
  'compose.yaml': `services:
  web:
    image: web
  debug:
    image: dbg
    profiles: [debug]
  tools:
    image: tools
    profiles: [ops, debug]
  batch:
    image: batch
    profiles: [jobs]
`,
}

describe('profiles', () => {
  const active = async (options = {}) => Object.keys((await load(files, options)).project.services)

  it('runs services without profiles always, others only when enabled', async () => {
    assert.deepEqual(await active(), ['web'])
    assert.deepEqual(await active({ profiles: ['debug'] }), ['debug', 'tools', 'web'])
    assert.deepEqual(await active({ profiles: ['ops', 'jobs'] }), ['batch', 'tools', 'web'])
    assert.deepEqual(await active({ profiles: ['*'] }), ['batch', 'debug', 'tools', 'web'])
  })

  it('reads COMPOSE_PROFILES as a comma list', async () => {
    assert.deepEqual(await active({ environment: { COMPOSE_PROFILES: 'jobs, ops' } }), ['batch', 'tools', 'web'])
  })

  it('enables the profiles of a service named on the command line', async () => {
    assert.deepEqual(await active({ services: ['batch'] }), ['batch', 'web'])
  })

  it('rejects a dependency on a disabled service unless it is optional', async () => {
    await loadFails(
      { 'compose.yaml': 'services:\n  web:\n    image: w\n    depends_on: [db]\n  db:\n    image: d\n    profiles: [data]\n' },
      [/depends on "db", which is not enabled: enable its profile with --profile data/],
    )
    const { project } = await load({
      'compose.yaml': 'services:\n  web:\n    image: w\n    depends_on:\n      db: {condition: service_started, required: false}\n  db:\n    image: d\n    profiles: [data]\n',
    })
    assert.deepEqual(project.services.web.depends_on, {})
  })

  it('names the valid services when a named one does not exist', async () => {
    await loadFails(files, [/no such service: "wbe" \(did you mean "web"\?\); the services are: batch, debug, tools, web/], { services: ['wbe'] })
  })
})

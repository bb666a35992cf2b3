import assert from 'node:assert/strict'
import { load, loadFails } from '../support/helpers.js'

describe('extends', () => {
  it('merges a service of the same file under the extending one, chained', async () => {
    const { project } = await load({
      'compose.yaml': `services:
  base:
    image: busybox
    environment: [A=1]
    ports: ["80"]
  mid:
    extends: base
    environment: [B=2]
  web:
    extends:
      service: mid
    environment: [A=override]
`,
    })
    const web = project.services.web
    assert.equal(web.image, 'busybox')
    assert.deepEqual(web.environment, { A: 'override', B: '2' })
    assert.equal(web.ports.length, 1)
    assert.equal(web.extends, undefined)
  })

  it('reads a service from another file, with its paths relative to that file', async () => {
    const { project } = await load({
      'compose.yaml': 'services:\n  web:\n    extends:\n      file: common/base.yaml\n      service: app\n    image: mine\n',
      'common/base.yaml': 'services:\n  app:\n    build: ./src\n    env_file: app.env\n    volumes: ["./data:/data"]\n',
      'common/app.env': 'FROM_FILE=1\n',
    })
    const web = project.services.web
    assert.match(web.build!.context, /\/common\/src$/)
    assert.deepEqual(web.environment, { FROM_FILE: '1' })
    assert.match((web.volumes[0] as { source: string }).source, /\/common\/data$/)
    assert.equal(web.image, 'mine')
  })

  it('follows chains across files', async () => {
    const { project } = await load({
      'compose.yaml': 'services:\n  web:\n    extends: {file: a/one.yaml, service: one}\n',
      'a/one.yaml': 'services:\n  one:\n    extends: {file: ../b/two.yaml, service: two}\n    hostname: one\n',
      'b/two.yaml': 'services:\n  two:\n    image: two\n',
    })
    assert.equal(project.services.web.image, 'two')
    assert.equal(project.services.web.hostname, 'one')
  })

  it('refuses a cycle and spells it out', async () => {
    await loadFails(
      { 'compose.yaml': 'services:\n  a:\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n' },
      [/extends cycle: a -> b -> c -> a/, /compose\.yaml:\d+:\d+/],
    )
  })

  it('names a missing base service or file', async () => {
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    extends: nope\n    image: x\n' }, [/cannot extend service "nope": no such service/, /services\.web\.extends/])
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    extends: {file: missing.yaml, service: x}\n' }, [/missing\.yaml: no such file/])
  })
})

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

  it('keeps a !override in the middle of a chain where it was written', async () => {
    const { project } = await load({
      'compose.yaml': `services:
  base:
    image: busybox
    ports: ["80:80"]
  mid:
    extends: base
    ports: !override ["81:81"]
  top:
    extends: mid
    ports: ["82:82"]
`,
    })
    assert.deepEqual(project.services.mid.ports.map((p) => p.target), [81])
    assert.deepEqual(project.services.top.ports.map((p) => p.target), [81, 82])
  })

  it("keeps the base's build context when the extending service only sets target", async () => {
    const { project } = await load({
      'app/compose.yaml': 'services:\n  web:\n    extends: {file: ../common/base.yaml, service: base}\n    build:\n      target: prod\n',
      'common/base.yaml': 'services:\n  base:\n    build:\n      context: ..\n      target: dev\n',
    }, { files: ['app/compose.yaml'] })
    const build = project.services.web.build!
    assert.equal(build.target, 'prod')
    assert.match(build.context, /\/proj$/)
  })

  it('resolves a build without context in an extended file against the project directory', async () => {
    const { project } = await load({
      'compose.yaml': 'services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n',
      'common/base.yaml': 'services:\n  base:\n    build:\n      dockerfile: Dockerfile.web\n',
    })
    assert.match(project.services.web.build!.context, /\/proj$/)
  })

  it('makes additional build contexts absolute, leaving images and services as written', async () => {
    const { project } = await load({
      'compose.yaml': 'services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n  api:\n    build:\n      context: .\n      additional_contexts: [lib=../lib, img=docker-image://alpine]\n',
      'common/base.yaml': 'services:\n  base:\n    build:\n      context: .\n      additional_contexts:\n        shared: ./shared\n        svc: service:api\n',
    })
    const web = project.services.web.build!.additional_contexts!
    assert.match(web.shared, /\/proj\/common\/shared$/)
    assert.equal(web.svc, 'service:api')
    const api = project.services.api.build!.additional_contexts!
    assert.match(api.lib, /^\/.*\/lib$/)
    assert.ok(!api.lib.includes('..'))
    assert.equal(api.img, 'docker-image://alpine')
  })
})

import assert from 'node:assert/strict'
import { load, loadFails } from '../support/helpers.js'

describe('include', () => {
  it('adds an included project, loaded with its own .env and relative paths', async () => {
    const { project } = await load({
      'compose.yaml': 'include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n',
      'sub/compose.yaml': 'services:\n  db:\n    image: "db:${DB_TAG}"\n    volumes: ["./init:/init", "data:/data"]\nvolumes:\n  data: {}\n',
      'sub/.env': 'DB_TAG=15\n',
    })
    assert.equal(project.services.db.image, 'db:15')
    assert.match((project.services.db.volumes[0] as { source: string }).source, /\/sub\/init$/)
    assert.equal(project.volumes.data.name, 'proj_data')
    assert.deepEqual(Object.keys(project.services), ['db', 'web'])
  })

  it('takes the long form with project_directory and env_file', async () => {
    const { project } = await load({
      'compose.yaml': 'include:\n  - path: [inc/a.yaml, inc/b.yaml]\n    project_directory: inc/root\n    env_file: inc/vars.env\n',
      'inc/a.yaml': 'services:\n  one:\n    image: "$IMG"\n    build: .\n',
      'inc/b.yaml': 'services:\n  one:\n    hostname: merged\n',
      'inc/vars.env': 'IMG=from-env-file\n',
    })
    assert.equal(project.services.one.image, 'from-env-file')
    assert.equal(project.services.one.hostname, 'merged')
    assert.match(project.services.one.build!.context, /\/inc\/root$/)
  })

  it('merges a service the including file redefines, the local definition over the included one', async () => {
    const { project } = await load({
      'compose.yaml': 'include: [sub.yaml]\nservices:\n  web:\n    image: a\n    environment: [B=local]\n',
      'sub.yaml': 'services:\n  web:\n    image: b\n    environment: [A=1, B=included]\n',
    })
    assert.equal(project.services.web.image, 'a')
    assert.deepEqual(project.services.web.environment, { A: '1', B: 'local' })
  })

  it('refuses an include cycle', async () => {
    await loadFails({ 'compose.yaml': 'include: [a.yaml]\nservices: {}\n', 'a.yaml': 'include: [compose.yaml]\n' }, [/include cycle: .*compose\.yaml -> .*a\.yaml -> .*compose\.yaml/])
  })

  it('resolves extends files of an included project against its project_directory', async () => {
    const { project } = await load({
      'compose.yaml': 'include:\n  - project_directory: .\n    path: dir/included.yaml\n',
      'dir/included.yaml': 'services:\n  included:\n    extends:\n      file: dir/extended.yaml\n      service: extended\n',
      'dir/extended.yaml': 'services:\n  extended:\n    image: alpine\n',
    })
    assert.equal(project.services.included.image, 'alpine')
  })

  it("resolves bare environment entries of included services from the include's env_file only", async () => {
    const { project } = await load({
      'compose.yaml': 'include:\n  - path: [module/compose.yaml]\n    env_file: [custom.env]\nservices:\n  a:\n    image: alpine\n    environment: [VAR_NAME]\n',
      'custom.env': 'VAR_NAME=value\n',
      'module/compose.yaml': 'services:\n  b:\n    image: alpine\n    environment: [VAR_NAME]\n',
    })
    assert.equal(project.services.a.environment.VAR_NAME, undefined)
    assert.equal(project.services.b.environment.VAR_NAME, 'value')
  })
})

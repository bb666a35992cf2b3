import assert from 'node:assert/strict'
import { loadProject } from '../../src/spec/load.js'
import { load, loadFails, TempProject } from '../support/helpers.js'

const simple = 'services:\n  web:\n    image: busybox\n'

describe('finding the project', () => {
  let tmp: TempProject
  afterEach(() => tmp?.cleanup())

  const loadIn = (dir: string, options = {}) => loadProject({ cwd: dir, environment: {}, onWarning: () => {}, ...options })

  it('finds compose.yaml in a parent directory, with its override twin', async () => {
    tmp = new TempProject({ 'compose.yaml': simple, 'compose.override.yaml': 'services:\n  web:\n    hostname: over\n', 'src/deep/.keep': '' }, 'My App!')
    const project = await loadIn(tmp.path('src', 'deep'))
    assert.equal(project.workingDir, tmp.dir)
    assert.deepEqual(project.configFiles, [tmp.path('compose.yaml'), tmp.path('compose.override.yaml')])
    assert.equal(project.services.web.hostname, 'over')
    assert.equal(project.name, 'myapp', 'a name from the directory is normalized')
  })

  it('prefers compose.yaml over docker-compose.yml, with a warning', async () => {
    tmp = new TempProject({ 'compose.yaml': simple, 'docker-compose.yml': 'services:\n  other:\n    image: x\n' })
    const warnings: string[] = []
    const project = await loadIn(tmp.dir, { onWarning: (w: string) => warnings.push(w) })
    assert.deepEqual(Object.keys(project.services), ['web'])
    assert.match(warnings[0], /found several compose files .*compose\.yaml, docker-compose\.yml; using compose\.yaml/)
  })

  it('reads docker-compose.yml and its docker-compose.override.yml', async () => {
    tmp = new TempProject({ 'docker-compose.yml': simple, 'docker-compose.override.yml': 'services:\n  web:\n    hostname: o\n' })
    assert.equal((await loadIn(tmp.dir)).services.web.hostname, 'o')
  })

  it('takes COMPOSE_FILE, split by the path separator, also from .env', async () => {
    tmp = new TempProject({ 'a.yaml': simple, 'b.yaml': 'services:\n  web:\n    hostname: b\n', '.env': 'COMPOSE_FILE=a.yaml:b.yaml\n' })
    assert.equal((await loadIn(tmp.dir)).services.web.hostname, 'b')
  })

  it('reads -f - from standard input, with the working directory as the project directory', async () => {
    tmp = new TempProject({})
    const project = await loadIn(tmp.dir, { files: ['-'], stdin: async () => simple })
    assert.equal(project.services.web.image, 'busybox')
    assert.equal(project.workingDir, tmp.dir)
  })

  it('uses --project-directory for relative paths and .env', async () => {
    tmp = new TempProject({ 'files/compose.yaml': 'services:\n  web:\n    image: "$TAG"\n    build: ./ctx\n', 'root/.env': 'TAG=t\n' })
    const project = await loadIn(tmp.dir, { files: ['files/compose.yaml'], projectDirectory: 'root' })
    assert.equal(project.services.web.image, 't')
    assert.equal(project.services.web.build!.context, tmp.path('root', 'ctx'))
  })

  it('says what to do when there is no compose file', async () => {
    tmp = new TempProject({})
    await assert.rejects(loadIn(tmp.dir), /no compose file found in .* or its parents: create compose\.yaml, or name a file with -f/)
  })
})

describe('project name', () => {
  const files = { 'compose.yaml': 'name: from-file\nservices:\n  web:\n    image: x\n' }
  const nameOf = async (options = {}) => (await load(files, options)).project.name

  it('takes -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', async () => {
    assert.equal(await nameOf({ projectName: 'flag', environment: { COMPOSE_PROJECT_NAME: 'env' } }), 'flag')
    assert.equal(await nameOf({ environment: { COMPOSE_PROJECT_NAME: 'env' } }), 'env')
    assert.equal(await nameOf(), 'from-file')
    assert.equal((await load({ 'compose.yaml': 'services: {}\n' })).project.name, 'proj')
  })

  it('interpolates name:', async () => {
    const { project } = await load({ 'compose.yaml': 'name: "app-${ENV:-dev}"\nservices: {}\n' })
    assert.equal(project.name, 'app-dev')
  })

  it('rejects an explicit invalid name', async () => {
    await loadFails(files, [/invalid project name "My_App" \(from -p\): use lower-case letters, digits/], { projectName: 'My_App' })
    await loadFails({ 'compose.yaml': 'name: -bad\nservices: {}\n' }, [/invalid project name "-bad" \(from the top-level name:\)/])
  })
})

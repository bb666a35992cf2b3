// The app tested through pier from mocha: `npx mocha examples/testing/app.mocha.test.mjs`.
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { up, wait } from 'pier'

const file = join(dirname(fileURLToPath(import.meta.url)), 'compose.yaml')

describe('the shop, through pier', function () {
  this.timeout(120_000)
  let env

  before(async () => {
    // A random project name, free host ports, and every service ready before the first test.
    env = await up({ file, wait: true, waitTimeoutMs: 60_000, waitFor: { api: wait.forHttp('/items.json', { port: 8000 }), web: wait.forHttp('/', { port: 80 }) } })
  })
  after(() => env?.down({ volumes: true }))

  it('serves the front page on its published port', async () => {
    const res = await fetch(env.service('web').url(80))
    assert.equal(res.status, 200)
    assert.match(await res.text(), /<h1>shop<\/h1>/)
  })

  it('reaches the api by service name from inside the network', async () => {
    const { exitCode, stdout } = await env.service('web').exec(['wget', '-q', '-O', '-', 'http://api:8000/items.json'])
    assert.equal(exitCode, 0)
    assert.deepEqual(JSON.parse(stdout), { items: 3 })
  })

  it('started the api only once the db was healthy', async () => {
    const db = (await env.service('db').logs()).map((e) => e.line.time)
    const api = (await env.service('api').logs()).map((e) => e.line.time)
    assert.ok(db[0] < api[0])
  })
})

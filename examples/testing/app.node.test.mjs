// The same app tested from node:test: `node --test examples/testing/app.node.test.mjs`.
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import test from 'node:test'
import { fileURLToPath } from 'node:url'
import { up, wait } from 'pier'

const file = join(dirname(fileURLToPath(import.meta.url)), 'compose.yaml')

test('the shop answers once its services are ready', { timeout: 120_000 }, async () => {
  const env = await up({ file, wait: true, waitTimeoutMs: 60_000, waitFor: { web: wait.forHttp('/', { port: 80 }) } })
  // In TypeScript (or Node 24), `await using env = …` does this finally for you.
  try {
    const res = await fetch(env.service('web').url(80))
    assert.equal(res.status, 200)
    const { stdout } = await env.service('web').exec(['wget', '-q', '-O', '-', 'http://api:8000/items.json'])
    assert.deepEqual(JSON.parse(stdout), { items: 3 })
  } finally {
    await env.down({ volumes: true })
  }
})

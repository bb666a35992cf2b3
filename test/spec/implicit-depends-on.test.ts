import assert from 'node:assert/strict'
import { pier, TempProject } from '../support/helpers.js'

/** `pier config --format json` shows what Compose adds to depends_on by itself, and one-number ulimits as numbers. */
describe('normalization as docker compose config prints it', () => {
  const config = (yaml: string) => {
    const tmp = new TempProject({ 'compose.yaml': yaml })
    try {
      const result = pier(['config', '--format', 'json'], { cwd: tmp.dir })
      assert.equal(result.status, 0, result.stderr)
      return JSON.parse(result.stdout) as { services: Record<string, Record<string, any>> }
    } finally {
      tmp.cleanup()
    }
  }

  it('adds links, service: namespaces and volumes_from to depends_on, with Compose restart values', () => {
    const doc = config(`services:
  db: {image: x}
  cache: {image: x}
  net: {image: x}
  ipc: {image: x}
  data: {image: x}
  web:
    image: x
    links: ["db:database"]
    network_mode: service:net
    ipc: service:ipc
    pid: service:net
    volumes_from: [data, "container:other"]
    depends_on:
      cache: {condition: service_healthy}
`)
    assert.deepEqual(doc.services.web.depends_on, {
      cache: { condition: 'service_healthy', required: true },
      db: { condition: 'service_started', restart: true, required: true },
      net: { condition: 'service_started', restart: true, required: true },
      ipc: { condition: 'service_started', restart: true, required: true },
      data: { condition: 'service_started', restart: false, required: true },
    })
  })

  it('keeps an explicit depends_on entry as written', () => {
    const doc = config('services:\n  db: {image: x}\n  web:\n    image: x\n    links: [db]\n    depends_on: [db]\n')
    assert.deepEqual(doc.services.web.depends_on, { db: { condition: 'service_started', required: true } })
  })

  it('prints a single-number ulimit as a number', () => {
    const doc = config('services:\n  web:\n    image: x\n    ulimits:\n      nproc: 65535\n      nofile: {soft: 20000, hard: 40000}\n')
    assert.deepEqual(doc.services.web.ulimits, { nproc: 65535, nofile: { soft: 20000, hard: 40000 } })
  })
})

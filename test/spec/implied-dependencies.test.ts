import assert from 'node:assert/strict'
import { projectDocument } from '../../src/spec/serialize.js'
import { load } from '../support/helpers.js'

/** A dependency Compose adds by itself says which attribute implied it; pier config prints it as Compose does, without that. */
describe('implied depends_on entries', () => {
  const yaml = `services:
  db: {image: x}
  net: {image: x}
  data: {image: x}
  cache: {image: x}
  web:
    image: x
    links: [db]
    network_mode: service:net
    volumes_from: [data]
    depends_on:
      cache: {condition: service_started, restart: true}
`

  it('marks each added entry with the attribute that implied it, and leaves written ones unmarked', async () => {
    const { project } = await load({ 'compose.yaml': yaml })
    const deps = project.services.web.depends_on
    assert.deepEqual(
      Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.implied])),
      { cache: undefined, db: 'links', net: 'network_mode', data: 'volumes_from' },
    )
    assert.deepEqual(deps.net, { condition: 'service_started', restart: true, required: true, implied: 'network_mode' })
  })

  it('keeps an entry the user wrote unmarked even when an attribute also implies it', async () => {
    const { project } = await load({ 'compose.yaml': 'services:\n  db: {image: x}\n  web: {image: x, ipc: "service:db", depends_on: [db]}\n' })
    assert.deepEqual(project.services.web.depends_on, { db: { condition: 'service_started', required: true } })
  })

  it('prints added entries exactly as written ones, as docker compose config does', async () => {
    const { project } = await load({ 'compose.yaml': yaml })
    const web = (projectDocument(project).services as Record<string, { depends_on: unknown }>).web
    assert.deepEqual(web.depends_on, {
      cache: { condition: 'service_started', restart: true, required: true },
      db: { condition: 'service_started', restart: true, required: true },
      net: { condition: 'service_started', restart: true, required: true },
      data: { condition: 'service_started', restart: false, required: true },
    })
  })
})

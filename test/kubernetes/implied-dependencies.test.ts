import assert from 'node:assert/strict'
import { convertToKubernetes } from '../../src/kubernetes/index.js'
import { load } from '../support/helpers.js'

/** pier k8s warns about a depends_on restart the user wrote, not about one Compose added by itself. */
describe('Kubernetes conversion of implied dependencies', () => {
  const warnings = async (yaml: string) => (await convertToKubernetes((await load({ 'compose.yaml': yaml })).project, {})).warnings

  it('does not warn that the restart of a network_mode, ipc, pid, links or volumes_from dependency is not converted', async () => {
    const out = await warnings(`services:
  net: {image: x}
  db: {image: x}
  data: {image: x}
  web: {image: x, network_mode: "service:net", ipc: "service:net", pid: "service:net", links: [db], volumes_from: [data]}
`)
    assert.deepEqual(out.filter((w) => /depends_on/.test(w)), [])
  })

  it('still warns about a restart: true the user wrote', async () => {
    const out = await warnings('services:\n  db: {image: x}\n  web: {image: x, links: [db], depends_on: {db: {condition: service_started, restart: true}}}\n')
    assert.deepEqual(out.filter((w) => /depends_on/.test(w)), ['service "web": depends_on "db" restart is not converted (pods are not restarted with their dependencies)'])
  })
})

import assert from 'node:assert/strict'
import { projectDocument } from '../../src/spec/serialize.js'
import { load, loadFails, service } from '../support/helpers.js'

/** deploy's Swarm fields: their durations are milliseconds like every other duration, and print as Go durations. */
describe('deploy update_config and rollback_config', () => {
  const yaml = `services:
  web:
    image: x
    deploy:
      restart_policy: {delay: 5s}
      update_config: {parallelism: "2", delay: 10s, monitor: 1m30s, order: start-first, max_failure_ratio: "0.5"}
      rollback_config: {delay: 500ms, monitor: 0s}
`

  it('normalizes delay and monitor to milliseconds, as restart_policy.delay is', async () => {
    const web = await service(yaml)
    assert.equal(web.deploy!.restart_policy!.delay, 5000)
    assert.deepEqual(web.deploy!.update_config, { parallelism: 2, delay: 10_000, monitor: 90_000, order: 'start-first', max_failure_ratio: 0.5 })
    assert.deepEqual(web.deploy!.rollback_config, { delay: 500, monitor: 0 })
  })

  it('prints them as Go durations, leaving a zero one out as Compose does', async () => {
    const { project } = await load({ 'compose.yaml': yaml })
    const deploy = (projectDocument(project).services as Record<string, { deploy: Record<string, unknown> }>).web.deploy
    assert.deepEqual(deploy.update_config, { parallelism: 2, delay: '10s', monitor: '1m30s', order: 'start-first', max_failure_ratio: 0.5 })
    assert.deepEqual(deploy.rollback_config, { delay: '500ms' })
    assert.deepEqual(deploy.restart_policy, { delay: '5s' })
  })

  it('refuses a delay that is not a duration, naming the field', async () => {
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    deploy:\n      update_config: {delay: soon}\n' }, [
      /services\.web\.deploy\.update_config\.delay/,
      /invalid duration "soon"/,
    ])
  })
})

import assert from 'node:assert/strict'
import { load } from '../support/helpers.js'
import { LABEL } from '../../src/labels.js'
import type { Service, Task } from '../../src/swarm/api.js'
import { reconcileServices } from '../../src/swarm/reconcile.js'
import { meshRefusals, unsupportedFields } from '../../src/swarm/refuse.js'
import { networkSpec, serviceSpec, TASK_HASH } from '../../src/swarm/translate.js'
import { converged } from '../../src/swarm/wait.js'

/** Compose → Swarm, and the decisions of up, without a swarm: YAML in, specs and plans out. */

const refs = { images: { web: 'reg:5000/web@sha256:abc' }, secrets: { token: { id: 'S1', name: 'p_token-1' } }, configs: {} }

async function project(yaml: string) {
  return (await load({ 'compose.yaml': `name: p\n${yaml}` })).project
}

describe('swarm: a Compose service as a Swarm ServiceSpec', () => {
  it('maps deploy (replicas, placement, resources, restart, update/rollback, endpoint mode) and host ports', async () => {
    const p = await project(`services:
  web:
    image: reg:5000/web:1
    command: [httpd, -f]
    environment: {A: "1"}
    ports: [{target: 80, published: 8080, mode: host}, "9090:90"]
    secrets: [token]
    stop_grace_period: 3s
    healthcheck: {test: ["CMD", "true"], interval: 2s, retries: 4}
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      labels: {tier: front}
      placement: {constraints: [node.role==worker], preferences: [{spread: node.labels.zone}], max_replicas_per_node: 2}
      resources: {limits: {cpus: "0.5", memory: 64M}, reservations: {memory: 32M}}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3}
      update_config: {order: start-first, delay: 10s, failure_action: rollback}
      rollback_config: {parallelism: 2}
secrets:
  token: {file: ./compose.yaml}
`)
    const spec = serviceSpec(p, p.services.web, refs)
    assert.equal(spec.Name, 'p_web')
    assert.equal(spec.Labels[LABEL.project], 'p')
    assert.equal(spec.Labels[LABEL.service], 'web')
    assert.equal(spec.Labels.tier, 'front')
    assert.match(spec.Labels[LABEL.configHash], /^[0-9a-f]{64}$/)
    const c = spec.TaskTemplate.ContainerSpec
    assert.equal(c.Image, 'reg:5000/web@sha256:abc')
    assert.deepEqual(c.Args, ['httpd', '-f'])
    assert.deepEqual(c.Env, ['A=1'])
    assert.equal(c.StopGracePeriod, 3e9)
    assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 2e9, Retries: 4 })
    assert.deepEqual(c.Secrets, [{ File: { Name: 'token', UID: '0', GID: '0', Mode: 0o444 }, SecretID: 'S1', SecretName: 'p_token-1' }])
    assert.deepEqual(spec.Mode, { Replicated: { Replicas: 3 } })
    assert.deepEqual(spec.TaskTemplate.Placement, { Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2 })
    assert.deepEqual(spec.TaskTemplate.Resources, { Limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 1024 * 1024 }, Reservations: { MemoryBytes: 32 * 1024 * 1024 } })
    assert.deepEqual(spec.TaskTemplate.RestartPolicy, { Condition: 'on-failure', Delay: 5e9, MaxAttempts: 3 })
    assert.deepEqual(spec.UpdateConfig, { Parallelism: 1, Delay: 10e9, FailureAction: 'rollback', Order: 'start-first' })
    assert.deepEqual(spec.RollbackConfig, { Parallelism: 2 })
    assert.deepEqual(spec.EndpointSpec, { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }, { Protocol: 'tcp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'ingress' }] })
    assert.deepEqual(spec.TaskTemplate.Networks, [{ Target: 'p_default', Aliases: ['web'] }])
  })

  it('a change of replicas alone changes the service hash but not the tasks\' (no task is replaced)', async () => {
    const a = await project('services:\n  web: {image: x, deploy: {replicas: 1}}\n')
    const b = await project('services:\n  web: {image: x, deploy: {replicas: 4}}\n')
    const c = await project('services:\n  web: {image: x, environment: {B: "2"}, deploy: {replicas: 1}}\n')
    const [sa, sb, sc] = [a, b, c].map((p) => serviceSpec(p, p.services.web, { images: {}, secrets: {}, configs: {} }))
    assert.notEqual(sa.Labels[LABEL.configHash], sb.Labels[LABEL.configHash])
    assert.equal(sa.TaskTemplate.ContainerSpec.Labels![TASK_HASH], sb.TaskTemplate.ContainerSpec.Labels![TASK_HASH])
    assert.notEqual(sa.TaskTemplate.ContainerSpec.Labels![TASK_HASH], sc.TaskTemplate.ContainerSpec.Labels![TASK_HASH])
    assert.equal(serviceSpec(a, a.services.web, { images: {}, secrets: {}, configs: {} }).Labels[LABEL.configHash], sa.Labels[LABEL.configHash], 'the same file hashes the same')
  })

  it('a global service and an attachable overlay network', async () => {
    const p = await project('services:\n  agent: {image: x, deploy: {mode: global}}\nnetworks:\n  default: {attachable: true, labels: {a: b}}\n')
    assert.deepEqual(serviceSpec(p, p.services.agent, { images: {}, secrets: {}, configs: {} }).Mode, { Global: {} })
    const n = networkSpec(p, 'default')
    assert.equal(n.Driver, 'overlay')
    assert.equal(n.Attachable, true)
    assert.equal(n.Labels[LABEL.project], 'p')
    assert.equal(n.Labels.a, 'b')
  })
})

describe('swarm: refusals', () => {
  it('names each field Swarm cannot honour, per service', async () => {
    const p = await project('services:\n  a: {image: x, privileged: true, network_mode: host, devices: ["/dev/null:/dev/null"], cap_add: [NET_ADMIN]}\n  b: {build: ., container_name: b1}\n')
    assert.deepEqual(unsupportedFields(p).map((l) => l.replace(/ \(.*$/, '')), [
      'service a: privileged is not supported by Swarm',
      'service a: network_mode is not supported by Swarm',
      'service a: devices is not supported by Swarm',
      'service b: build is not supported by Swarm',
      'service b: container_name is not supported by Swarm',
      'service b: has no image; Swarm runs images from a registry',
    ])
  })

  it('the routing mesh is needed by a VIP or an ingress port, and refused in one line without IPVS', async () => {
    const p = await project('services:\n  ok: {image: x, ports: [{target: 80, published: 80, mode: host}], deploy: {endpoint_mode: dnsrr}}\n  vip: {image: x}\n  ingress: {image: x, ports: ["81:80"], deploy: {endpoint_mode: dnsrr}}\n')
    assert.deepEqual(meshRefusals(p, true), [])
    const lines = meshRefusals(p, false)
    assert.equal(lines.length, 1)
    assert.match(lines[0], /^services ingress, vip need Swarm's routing mesh/)
  })
})

describe('swarm: up decides', () => {
  const running = (name: string, hash: string) => ({ ID: name, Version: { Index: 1 }, Spec: { Name: name, Labels: { [LABEL.configHash]: hash } } }) as unknown as Service
  const wanted = (name: string, hash: string) => ({ Name: name, Labels: { [LABEL.configHash]: hash } }) as never

  it('creates the new, updates the changed, leaves the unchanged, removes the gone', () => {
    const out = reconcileServices([wanted('a', '1'), wanted('b', '2'), wanted('c', '3')], [running('a', '1'), running('b', 'old'), running('d', '4')])
    assert.deepEqual(out.create.map((s) => s.Name), ['c'])
    assert.deepEqual(out.update.map((u) => u.spec.Name), ['b'])
    assert.deepEqual(out.unchanged.map((s) => s.Spec.Name), ['a'])
    assert.deepEqual(out.remove.map((s) => s.Spec.Name), ['d'])
  })

  it('a service has converged when its current tasks run and no update is under way; a rolled-back update is an error', () => {
    const service = (state?: string) => ({ ID: 's', Version: { Index: 1 }, Spec: { Name: 'p_web', Labels: {}, Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: { ContainerSpec: { Image: 'x', Labels: { [TASK_HASH]: 'new' } } } }, ...(state ? { UpdateStatus: { State: state, Message: 'update rolled back due to failure' } } : {}) }) as unknown as Service
    const task = (hash: string, state: string) => ({ ID: `${hash}${state}`, ServiceID: 's', DesiredState: 'running', CreatedAt: '', Spec: { ContainerSpec: { Image: 'x', Labels: { [TASK_HASH]: hash } } }, Status: { Timestamp: '', State: state } }) as Task
    assert.equal(converged(service(), [task('new', 'running'), task('new', 'running')]), true)
    assert.match(String(converged(service(), [task('new', 'running'), task('new', 'starting')])), /^1 of 2 tasks running/)
    assert.match(String(converged(service(), [task('old', 'running'), task('new', 'running')])), /^1 of 2/)
    assert.match(String(converged(service('updating'), [task('new', 'running'), task('new', 'running')])), /update updating/)
    assert.throws(() => converged(service('rollback_completed'), []), /its update failed and was rolled back: update rolled back due to failure/)
  })
})

import assert from 'node:assert/strict'
import { ConversionError, convertToKubernetes, type Manifest } from '../../src/kubernetes/index.js'
import { escapeReferences } from '../../src/kubernetes/container.js'
import { dnsLabel, serviceName } from '../../src/kubernetes/names.js'
import { probes } from '../../src/kubernetes/probes.js'
import { bytesQuantity } from '../../src/kubernetes/storage.js'
import { load } from '../support/helpers.js'

/** One behaviour each of the Compose → Kubernetes mapping, YAML in, objects out. */
async function convert(yaml: string, options = {}, environment: Record<string, string> = {}) {
  const { project } = await load({ 'compose.yaml': yaml }, { environment })
  return convertToKubernetes(project, options)
}
const find = (docs: Manifest[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name) as any

describe('Kubernetes conversion', () => {
  it('names objects as DNS labels, and Services start with a letter', () => {
    assert.equal(dnsLabel('My_App.v2'), 'my-app-v2')
    assert.equal(dnsLabel('x'.repeat(80)).length, 63)
    assert.equal(serviceName('1web'), 's-1web')
  })

  it('refuses two services that map to one name, naming both', async () => {
    await assert.rejects(convert('services:\n  web_app: {image: a}\n  web-app: {image: b}\n'), (err: Error) => {
      assert.ok(err instanceof ConversionError)
      assert.match(err.message, /services "(web_app|web-app)" and "(web_app|web-app)" both become "web-app" in Kubernetes: rename one of them/)
      return true
    })
  })

  it('doubles the $ of $( and $$ so Kubernetes passes them through as written', () => {
    assert.equal(escapeReferences('$(date) $$ $HOME $'), '$$(date) $$$ $HOME $')
  })

  it('writes memory in binary units and CPUs in millicores', async () => {
    assert.equal(bytesQuantity(512 * 1024 ** 2), '512Mi')
    assert.equal(bytesQuantity(1000), '1000')
    const { documents } = await convert('services:\n  web:\n    image: a\n    deploy: {resources: {limits: {cpus: "0.125", memory: 1g}}}\n')
    assert.deepEqual(find(documents, 'Deployment', 'web').spec.template.spec.containers[0].resources, { limits: { cpu: '125m', memory: '1Gi' } })
  })

  it('maps a healthcheck to a readinessProbe, and with liveness to a startupProbe covering start_period', () => {
    const hc = { test: ['CMD-SHELL', 'curl -f localhost'], interval: 10_000, timeout: 1_500, retries: 4, start_period: 30_000, start_interval: 5_000 }
    assert.deepEqual(probes(hc, false), { readinessProbe: { exec: { command: ['/bin/sh', '-c', 'curl -f localhost'] }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 4 } })
    const live = probes(hc, true)
    assert.equal(live.startupProbe?.periodSeconds, 5)
    assert.equal(live.startupProbe?.failureThreshold, 6 + 4)
    assert.deepEqual(live.livenessProbe, live.readinessProbe)
    assert.deepEqual(probes({ test: ['NONE'] }, false), {})
  })

  it('makes a service with a volume of its own a StatefulSet with a claim template, and a shared volume one ReadWriteMany claim', async () => {
    const { documents } = await convert('services:\n  db: {image: p, volumes: [own:/d, shared:/s]}\n  app: {image: a, volumes: [shared:/s]}\nvolumes: {own: {}, shared: {}}\n')
    const db = find(documents, 'StatefulSet', 'db')
    assert.deepEqual(db.spec.volumeClaimTemplates.map((t: any) => t.metadata.name), ['own'])
    // Only the template: no standalone claim, no pod volume beside it (Kompose wrote both, kubernetes/kompose#2090).
    assert.deepEqual(db.spec.template.spec.volumes.map((v: any) => v.name), ['shared'])
    assert.equal(find(documents, 'PersistentVolumeClaim', 'proj-own'), undefined)
    assert.equal(find(documents, 'Service', 'db').spec.clusterIP, 'None')
    assert.deepEqual(find(documents, 'PersistentVolumeClaim', 'proj-shared').spec.accessModes, ['ReadWriteMany'])
    assert.ok(find(documents, 'Deployment', 'app'))
  })

  it('runs a service_completed_successfully dependency as an init container and gives it no workload', async () => {
    const { documents } = await convert('services:\n  app: {image: a, depends_on: {migrate: {condition: service_completed_successfully}}}\n  migrate: {image: m, command: [migrate]}\n')
    assert.deepEqual(find(documents, 'Deployment', 'app').spec.template.spec.initContainers, [{ name: 'migrate', image: 'm', args: ['migrate'] }])
    assert.equal(find(documents, 'Deployment', 'migrate'), undefined)
  })

  it('names what a one-shot service loses by running as an init container', async () => {
    const { warnings } = await convert('services:\n  app: {image: a, deploy: {replicas: 2}, depends_on: {migrate: {condition: service_completed_successfully}}}\n  migrate: {image: m, ports: ["9000"], hostname: mig}\n')
    assert.deepEqual(warnings.sort(), [
      'service "migrate": hostname is not converted (the service runs as an init container of its dependents)',
      'service "migrate": ports is not converted (the service runs as an init container of its dependents)',
      'service "migrate": run once is not converted: it runs as an init container of "app", once per pod start (make it idempotent, or run it as a Job by hand)',
    ])
  })

  it('refuses two volumes that map to one pod volume name', async () => {
    await assert.rejects(convert('services:\n  a: {image: a, volumes: [data_1:/x, data-1:/y]}\nvolumes: {data_1: {}, data-1: {}}\n'), /volumes "(data_1|data-1)" and "(data_1|data-1)" both become "data-1" in Kubernetes/)
  })

  it('reads secrets from the environment and fails in one line on a missing variable or file', async () => {
    const { documents } = await convert('services:\n  a: {image: a, secrets: [k]}\nsecrets: {k: {environment: KEY}}\n', {}, { KEY: 'v' })
    assert.deepEqual(find(documents, 'Secret', 'proj-k').data, { k: Buffer.from('v').toString('base64') })
    await assert.rejects(convert('services:\n  a: {image: a, secrets: [k]}\nsecrets: {k: {environment: KEY}}\n'), /secret "k": variable "KEY" is not set/)
  })

  it('converts only what the converted services use', async () => {
    const { project } = await load({ 'compose.yaml': 'services:\n  a: {image: a}\n  b: {image: b, secrets: [s], volumes: [v:/v], networks: [n]}\nsecrets: {s: {file: ./missing.txt}}\nvolumes: {v: {driver: nfs}, unused: {}}\nnetworks: {n: {}}\n' })
    const { documents, warnings } = await convertToKubernetes(project, {}, ['a'])
    assert.deepEqual(documents.map((d) => `${d.kind}/${d.metadata.name}`), ['NetworkPolicy/proj-network-default', 'Service/a', 'Deployment/a'])
    assert.deepEqual(warnings, [])
  })

  it('converts bind mounts only with hostPath, and names them otherwise', async () => {
    const yaml = 'services:\n  a: {image: a, volumes: ["/srv/x:/x"]}\n'
    const without = await convert(yaml)
    assert.match(without.warnings.join('\n'), /service "a": volumes "\/x" \(bind mount of \/srv\/x\) is not converted/)
    const withHostPath = await convert(yaml, { hostPath: true })
    assert.deepEqual(find(withHostPath.documents, 'Deployment', 'a').spec.template.spec.volumes, [{ name: 'a-bind-0', hostPath: { path: '/srv/x', type: 'DirectoryOrCreate' } }])
    assert.deepEqual(withHostPath.warnings, [])
  })

  it('gives a service without ports a headless Service, so its name resolves as on a Compose network', async () => {
    const { documents } = await convert('services:\n  worker: {image: w}\n')
    assert.deepEqual(find(documents, 'Service', 'worker').spec, { clusterIP: 'None', selector: { 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'worker' } })
  })

  it('publishes ports as a NodePort keeping the published number inside the node port range', async () => {
    const { documents } = await convert('services:\n  web: {image: w, ports: ["30080:80", "8080:81"]}\n', { publishedAs: 'NodePort' })
    const ports = find(documents, 'Service', 'web-published').spec.ports
    assert.deepEqual(ports.map((p: any) => [p.port, p.targetPort, p.nodePort]), [[30080, 80, 30080], [8080, 81, undefined]])
  })

  it('names every field it cannot convert, once', async () => {
    const { warnings } = await convert('services:\n  a: {image: a, ulimits: {nofile: 10}, stop_signal: SIGINT, x-custom: 1}\n')
    assert.deepEqual(warnings.sort(), ['service "a": stop_signal is not converted (Kubernetes 1.33 sends SIGTERM; lifecycle.stopSignal is alpha)', 'service "a": ulimits is not converted (the container runtime of the node sets them)'])
  })
})

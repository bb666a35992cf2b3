import assert from 'node:assert/strict'
import type { Manifest } from '../../src/kubernetes/index.js'
import { validateDocuments } from './schema.js'

/** The checker of the golden and corpus tests finds what the API server refuses: otherwise their green would prove nothing. */
describe('the Kubernetes schema check of the tests', () => {
  const deployment = (): Manifest => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  })
  const broken = (change: (d: any) => void): Manifest => {
    const d = deployment()
    change(d)
    return d
  }

  it('accepts a valid Deployment', async () => {
    assert.deepEqual(await validateDocuments([{ label: 'ok', doc: deployment() }]), [])
  })

  const cases: [string, Manifest, RegExp][] = [
    ['an unknown field', broken((d) => (d.spec.template.spec.containers[0].portz = [])), /portz/],
    ['a wrong type', broken((d) => (d.spec.replicas = 'two')), /replicas must be integer/],
    ['a missing required field', broken((d) => delete d.spec.template.spec.containers[0].name), /name/],
    ['a bad quantity', broken((d) => (d.spec.template.spec.containers[0].resources = { limits: { cpu: 'lots' } })), /quantity/],
    ['a name that is not DNS-1123', broken((d) => (d.metadata.name = 'My_App')), /not a DNS-1123 label/],
    ['a selector the pods do not match', broken((d) => (d.spec.selector.matchLabels.app = 'other')), /does not match/],
    ['a mount of no volume', broken((d) => (d.spec.template.spec.containers[0].volumeMounts = [{ name: 'data', mountPath: '/data' }])), /not a volume of the pod/],
    ['a bad label value', broken((d) => (d.metadata.labels.app = 'a b')), /not a label value/],
  ]
  for (const [what, doc, pattern] of cases) {
    it(`refuses ${what}`, async () => {
      const errors = await validateDocuments([{ label: 'bad', doc }])
      assert.ok(errors.some((e) => pattern.test(e)), errors.join('\n') || 'no error')
    })
  }
})

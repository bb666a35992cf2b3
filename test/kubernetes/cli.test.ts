import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import { pier, TempProject } from '../support/helpers.js'

/** `pier convert --format kubernetes`, `pier k8s` and their flags, run as a user runs them. */
describe('pier convert --format kubernetes / pier k8s', () => {
  let project: TempProject
  const compose = 'services:\n  web:\n    build: .\n    image: example/web:1\n    ports: ["8080:80"]\n  cache:\n    image: redis:7\n'

  beforeEach(() => {
    project = new TempProject({ 'compose.yaml': compose, Dockerfile: 'FROM scratch\n' }, 'shop')
  })
  afterEach(() => project.cleanup())

  const kinds = (yaml: string) => parseAllDocuments(yaml).map((d) => `${d.get('kind')}/${(d.toJS() as { metadata: { name: string } }).metadata.name}`)

  it('prints the manifests on stdout and each unconverted field on stderr', () => {
    const result = pier(['convert', '--format', 'kubernetes'], { cwd: project.dir })
    assert.equal(result.status, 0, result.stderr)
    assert.deepEqual(kinds(result.stdout), ['NetworkPolicy/shop-network-default', 'NetworkPolicy/shop-web-published', 'Service/cache', 'Service/web', 'Service/web-published', 'Deployment/cache', 'Deployment/web'])
    assert.equal(result.stderr, 'warning: service "web": build is not converted (build and push the image, then set image: to where the cluster pulls "example/web:1" from)\n')
  })

  it('gives the same output as pier k8s, pier config --format kubernetes and pier k8s -o FILE', () => {
    const convert = pier(['convert', '--format', 'kubernetes'], { cwd: project.dir })
    assert.equal(pier(['k8s'], { cwd: project.dir }).stdout, convert.stdout)
    assert.equal(pier(['config', '--format', 'kubernetes'], { cwd: project.dir }).stdout, convert.stdout)
    assert.equal(pier(['k8s', '-o', 'all.yaml'], { cwd: project.dir }).stdout, '')
    assert.equal(readFileSync(project.path('all.yaml'), 'utf8'), convert.stdout)
  })

  it('keeps pier convert without --format kubernetes what it is in Compose: pier config', () => {
    assert.equal(pier(['convert'], { cwd: project.dir }).stdout, pier(['config'], { cwd: project.dir }).stdout)
    assert.equal(pier(['convert', '--services'], { cwd: project.dir }).stdout, 'cache\nweb\n')
  })

  it('with --strict, fails when a field is not converted: exit 1, every such field named, nothing written', () => {
    const result = pier(['k8s', '--strict', '-o', 'out.yaml'], { cwd: project.dir })
    assert.equal(result.status, 1)
    assert.match(result.stderr, /^warning: service "web": build is not converted .*\nerror: 1 Compose field is not converted \(--strict\): see the warnings above\n$/)
    assert.equal(existsSync(project.path('out.yaml')), false)
    assert.equal(result.stdout, '')
  })

  it('writes one file per object, numbered in apply order, into a directory', () => {
    const result = pier(['k8s', '-o', 'k8s/', '--namespace', 'shop', '--published-as', 'NodePort'], { cwd: project.dir })
    assert.equal(result.status, 0, result.stderr)
    const files = readdirSync(project.path('k8s')).sort()
    assert.equal(files[0], '1-namespace-shop.yaml')
    assert.equal(files.length, 8)
    assert.match(readFileSync(project.path('k8s', files.find((f) => f.includes('service-web-published'))!), 'utf8'), /type: NodePort/)
  })

  it('converts only the services named, and what they depend on', () => {
    const result = pier(['k8s', 'cache'], { cwd: project.dir })
    assert.deepEqual(kinds(result.stdout), ['NetworkPolicy/shop-network-default', 'Service/cache', 'Deployment/cache'])
  })

  for (const [args, message] of [
    [['config', '--strict'], 'error: --strict applies only with --format kubernetes'],
    [['convert', '--format', 'kubernetes', '--services'], 'error: --services does not apply with --format kubernetes'],
    [['k8s', '--volume-size', 'big'], 'error: invalid --volume-size "big": give a Kubernetes quantity such as 512Mi or 10Gi'],
    [['k8s', '--namespace', 'My_NS'], `error: invalid --namespace "My_NS": a namespace is a DNS-1123 label (lower-case letters, digits and '-', at most 63)`],
  ] as const) {
    it(`refuses ${args.join(' ')} in one line`, () => {
      const result = pier([...args], { cwd: project.dir })
      assert.equal(result.status, 1)
      assert.equal(result.stderr, `${message}\n`)
      assert.equal(result.stdout, '')
    })
  }

  it('refuses --published-as with a value it does not know, as commander does', () => {
    const result = pier(['k8s', '--published-as', 'Ingress'], { cwd: project.dir })
    assert.equal(result.status, 1)
    assert.match(result.stderr, /Allowed choices are LoadBalancer, NodePort, none/)
  })
})

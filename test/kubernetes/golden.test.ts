import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { convertToKubernetes, manifestsYaml, type KubernetesOptions, type Manifest } from '../../src/kubernetes/index.js'
import { loadProject } from '../../src/spec/load.js'
import { repoRoot } from '../support/helpers.js'
import { KUBERNETES_VERSION, validateDocuments } from './schema.js'

/**
 * The golden cases: fixtures/kubernetes/<case>/compose.yaml converts to
 * exactly expected.yaml, with exactly the warning lines of warnings.txt
 * (options.json, when present, holds the conversion options and the
 * environment). Every document of every case is valid for the Kubernetes
 * version of schema.ts. After a deliberate change of output, regenerate with
 * PIER_UPDATE_GOLDEN=1 and read the diff.
 */
const casesDir = join(repoRoot, 'fixtures', 'kubernetes')
const cases = readdirSync(casesDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
const update = process.env.PIER_UPDATE_GOLDEN === '1'

interface Converted {
  yaml: string
  warnings: string
  documents: Manifest[]
}

async function convertCase(name: string): Promise<Converted> {
  const dir = join(casesDir, name)
  const optionsFile = join(dir, 'options.json')
  const settings = existsSync(optionsFile) ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as { options?: KubernetesOptions; environment?: Record<string, string> }) : {}
  const project = await loadProject({ cwd: dir, environment: settings.environment ?? {}, onWarning: () => {} })
  const { documents, warnings } = await convertToKubernetes(project, settings.options ?? {})
  return { yaml: await manifestsYaml(documents), warnings: warnings.map((w) => `${w}\n`).join(''), documents }
}

describe(`Kubernetes golden files (fixtures/kubernetes, checked against Kubernetes ${KUBERNETES_VERSION})`, () => {
  const converted = new Map<string, Converted>()
  let errors: string[] = []

  before(async function () {
    this.timeout(60_000)
    for (const name of cases) converted.set(name, await convertCase(name))
    errors = await validateDocuments([...converted].flatMap(([name, c]) => c.documents.map((doc) => ({ label: name, doc }))))
  })

  it('has the cases', () => {
    assert.ok(cases.length >= 7, `found ${cases.join(', ')}`)
  })

  for (const name of cases) {
    describe(name, () => {
      it('converts to expected.yaml and warns as warnings.txt says', () => {
        const { yaml, warnings } = converted.get(name)!
        const expectedFile = join(casesDir, name, 'expected.yaml')
        const warningsFile = join(casesDir, name, 'warnings.txt')
        if (update) {
          writeFileSync(expectedFile, yaml)
          writeFileSync(warningsFile, warnings)
        }
        assert.equal(yaml, readFileSync(expectedFile, 'utf8'))
        assert.equal(warnings, readFileSync(warningsFile, 'utf8'))
      })

      it('writes valid YAML that reads back as the documents', () => {
        const { yaml, documents } = converted.get(name)!
        const parsed = parseAllDocuments(yaml).map((d) => d.toJS())
        assert.deepEqual(parsed, JSON.parse(JSON.stringify(documents)))
      })

      it('writes only documents the Kubernetes API accepts', () => {
        assert.deepEqual(errors.filter((e) => e.startsWith(`${name}: `)), [])
      })
    })
  }

  it('converts the same project to the same bytes twice', async () => {
    const again = await convertCase('basic')
    assert.equal(again.yaml, converted.get('basic')!.yaml)
  })
})

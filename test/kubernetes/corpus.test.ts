import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ConversionError, convertToKubernetes, type Manifest } from '../../src/kubernetes/index.js'
import { loadProject } from '../../src/spec/load.js'
import { describeWithReference, sharedReference } from '../support/helpers.js'
import { KUBERNETES_VERSION, validateDocuments } from './schema.js'

/**
 * Every compose file of the real-world corpus (../shared/reference/corpus)
 * converts, and every document it gives is valid for the Kubernetes version
 * of schema.ts. Variables the samples leave to the user get a path, as in
 * test/cli/corpus.test.ts. Eight samples read a secret from db/password.txt,
 * which their README asks the user to create (it is not in the corpus):
 * there the test stands in an inline content, and checks that the file's
 * absence is reported in one line.
 */
describeWithReference(`the real-world corpus as Kubernetes ${KUBERNETES_VERSION} manifests`, () => {
  const corpusDir = join(sharedReference, 'corpus/awesome-compose')
  const files = readdirSync(corpusDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(corpusDir, d.name)).filter((f) => /^compose\.ya?ml$/.test(f)).map((f) => join(corpusDir, d.name, f)))
  const converted = new Map<string, { documents: Manifest[]; warnings: string[] } | Error>()
  let errors: string[] = []
  let missing = 0

  before(async function () {
    this.timeout(120_000)
    for (const file of files) {
      const environment: Record<string, string> = {}
      for (const [, name] of readFileSync(file, 'utf8').matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)) environment[name] = `/srv/${name.toLowerCase()}`
      try {
        const project = await loadProject({ files: [file], cwd: dirname(file), environment, onWarning: () => {} })
        for (const [key, secret] of Object.entries(project.secrets)) {
          if (secret.file === undefined || existsSync(secret.file)) continue
          await assert.rejects(convertToKubernetes(project), (err: Error) => err instanceof ConversionError && err.message === `secret "${key}": cannot read ${secret.file}: ENOENT`)
          project.secrets[key] = { name: secret.name, content: 'stand-in for the file the sample asks its user to create' }
          missing++
        }
        converted.set(file, await convertToKubernetes(project))
      } catch (err) {
        converted.set(file, err as Error)
      }
    }
    errors = await validateDocuments([...converted].flatMap(([file, c]) => (c instanceof Error ? [] : c.documents.map((doc) => ({ label: file, doc })))))
  })

  it('has the 39 sample projects, eight of them with a secret file to create', () => {
    assert.equal(files.length, 39)
    assert.equal(missing, 8)
  })

  for (const file of files) {
    const sample = file.split('/').slice(-2).join('/')
    it(`converts ${sample} to valid manifests`, () => {
      const result = converted.get(file)!
      if (result instanceof Error) assert.fail(result.message)
      assert.ok(result.documents.some((d) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(d.kind)), 'a workload')
      assert.deepEqual(errors.filter((e) => e.startsWith(`${file}: `)), [])
    })
  }
})

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describeWithReference, pier, sharedReference } from '../support/helpers.js'

/**
 * Every compose file of the real-world corpus (../shared/reference/corpus)
 * passes `pier config -q`, run as a user runs it.
 *
 * Some samples take host paths from variables their README asks the user to
 * set (plex's PLEX_MEDIA_PATH); without them the file is invalid under Docker
 * Compose too (`:/media` has an empty source). So each file runs with the
 * variables it references, and plex is also checked without its variable.
 */
describeWithReference('the real-world corpus', () => {
  const corpusDir = join(sharedReference, 'corpus/awesome-compose')
  const files = readdirSync(corpusDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(corpusDir, d.name)).filter((f) => /^compose\.ya?ml$/.test(f)).map((f) => join(corpusDir, d.name, f)))

  it('has the 39 sample projects', () => {
    assert.equal(files.length, 39)
  })

  for (const file of files) {
    const sample = file.split('/').slice(-2).join('/')
    it(`reads ${sample}`, () => {
      const env: Record<string, string> = {}
      for (const [, name] of readFileSync(file, 'utf8').matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)) env[name] = `/srv/${name.toLowerCase()}`
      const result = pier(['-f', file, 'config', '-q'], { env })
      assert.equal(result.stderr.replace(/^warning: .*\n/gm, ''), '')
      assert.equal(result.status, 0)
      assert.equal(result.stdout, '')
    })
  }

  it('reports plex without PLEX_MEDIA_PATH as Docker Compose does: an empty volume source', () => {
    const result = pier(['-f', join(corpusDir, 'plex/compose.yaml'), 'config', '-q'])
    assert.equal(result.status, 1)
    assert.match(result.stderr, /warning: The "PLEX_MEDIA_PATH" variable is not set/)
    assert.match(result.stderr, /error: .*plex\/compose\.yaml:\d+:\d+: services\.plex\.volumes\[0\]: invalid volume ":\/media\/"/)
  })
})

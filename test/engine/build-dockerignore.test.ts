import assert from 'node:assert/strict'
import { parseDockerIgnore } from '../../src/engine/embedded/build/dockerignore.js'

describe('.dockerignore patterns, as Docker reads them', () => {
  const check = (text: string, expected: Record<string, boolean>) => {
    const ignore = parseDockerIgnore(text)
    for (const [path, ignored] of Object.entries(expected)) assert.equal(ignore.ignored(path), ignored, `${path} with\n${text}`)
  }

  it('matches * and ? within one component, at the top only', () => {
    check('*.log\ntmp?\n', { 'a.log': true, 'sub/a.log': false, tmp1: true, tmp12: false })
  })

  it('matches ** across components', () => {
    check('**/*.log\n', { 'a.log': true, 'x/y/a.log': true, 'a.txt': false })
    check('docs/**\n', { 'docs/a/b': true, docs: false, other: false })
  })

  it('excludes what is under a matched directory', () => {
    check('node_modules\n', { node_modules: true, 'node_modules/x/index.js': true, 'src/node_modules': false })
  })

  it('re-includes with !, the last match deciding; ignores a leading / and comments', () => {
    check('# comment\n/secrets\n*.md\n!README.md\n', { 'secrets/key': true, 'CHANGES.md': true, 'README.md': false })
    check('!keep\nkeep\n', { keep: true })
    assert.equal(parseDockerIgnore('a\n!a/b\n').hasExceptions, true)
  })
})

import assert from 'node:assert/strict'
import { Ajv } from 'ajv'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describeWithReference, repoRoot, sharedReference } from '../support/helpers.js'

/**
 * pier's schema (schemas/compose.schema.json, written for pier) must accept
 * and reject exactly what the Compose specification's official schema does.
 * Checked on hand-written fixtures, on the real-world corpus, and on
 * thousands of systematic mutations of both (every field given every other
 * kind of value, unknown and x- keys added everywhere).
 */
describeWithReference('schema parity with the Compose specification', () => {
  const require = createRequire(import.meta.url)
  const ours = require(join(repoRoot, 'dist/schemas/compose.validate.cjs')) as (d: unknown) => boolean
  const official = new Ajv({ allErrors: false, strict: false, validateSchema: false }).compile(
    JSON.parse(readFileSync(join(sharedReference, 'compose-spec.schema.json'), 'utf8')),
  )
  const fixtures = join(repoRoot, 'fixtures/schema')
  const read = (dir: string) => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => ({ name: f, doc: parse(readFileSync(join(dir, f), 'utf8'), { merge: true }) }))
  const corpusDir = join(sharedReference, 'corpus/awesome-compose')
  const corpus = readdirSync(corpusDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(corpusDir, d.name)).filter((f) => /^compose\.ya?ml$/.test(f)).map((f) => ({ name: `${d.name}/${f}`, doc: parse(readFileSync(join(corpusDir, d.name, f), 'utf8')) })))

  const verdicts = (doc: unknown) => [ours(doc), official(doc) as boolean]

  it('accepts the valid fixtures, as the official schema does', () => {
    for (const { name, doc } of read(join(fixtures, 'valid'))) assert.deepEqual(verdicts(doc), [true, true], name)
  })

  it('rejects the invalid fixtures, as the official schema does', () => {
    for (const { name, doc } of read(join(fixtures, 'invalid'))) assert.deepEqual(verdicts(doc), [false, false], name)
  })

  it('accepts every file of the corpus, as the official schema does', () => {
    assert.ok(corpus.length >= 39, `corpus found: ${corpus.length} files`)
    for (const { name, doc } of corpus) assert.deepEqual(verdicts(doc), [true, true], name)
  })

  it('agrees on every mutation of the fixtures and the corpus', () => {
    const replacements: unknown[] = [42, 4.5, -1, 5000, 'text', 'always', '', true, null, [], ['a'], ['a', 'a'], [1], {}, { k: 'v' }, { condition: 'service_started' }, [{ k: 'v' }]]
    let checked = 0
    const disagreements: string[] = []
    const check = (doc: unknown, what: string) => {
      checked++
      const [a, b] = verdicts(doc)
      if (a !== b) disagreements.push(`${what}: pier ${a ? 'accepts' : 'rejects'}, official ${b ? 'accepts' : 'rejects'}`)
    }
    const bases = [...read(join(fixtures, 'valid')), ...corpus]
    for (const { name, doc } of bases) {
      for (const path of paths(doc)) {
        for (const value of replacements) check(setAt(doc, path, value), `${name} ${path.join('.')} = ${JSON.stringify(value)}`)
        const target = getAt(doc, path)
        if (target && typeof target === 'object' && !Array.isArray(target)) {
          check(setAt(doc, [...path, 'bogus'], 1), `${name} ${path.join('.')} + bogus key`)
          check(setAt(doc, [...path, 'x-ext'], { any: 1 }), `${name} ${path.join('.')} + x- key`)
        }
      }
    }
    assert.deepEqual(disagreements.slice(0, 20), [], `${disagreements.length} of ${checked} mutations disagree`)
    assert.ok(checked > 5000, `only ${checked} mutations checked`)
  })
})

type Path = (string | number)[]

function paths(doc: unknown, prefix: Path = []): Path[] {
  const out: Path[] = prefix.length ? [prefix] : []
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...paths(v, [...prefix, i])))
  else if (doc && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) out.push(...paths(v, [...prefix, k]))
  return out
}

function getAt(doc: unknown, path: Path): unknown {
  return path.reduce<any>((node, key) => node?.[key], doc)
}

function setAt(doc: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value
  const [head, ...rest] = path
  const copy: any = Array.isArray(doc) ? [...doc] : { ...(doc as object) }
  copy[head] = setAt(copy[head], rest, value)
  return copy
}

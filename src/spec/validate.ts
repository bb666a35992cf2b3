import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { distPath } from '../paths.js'
import { cacheGet, cacheKey, cachePut } from './cache.js'
import { SpecError } from './errors.js'
import type { Dict } from './data.js'
import { childPath, type FieldPath, type Sources } from './source.js'
import { closest } from './suggest.js'

/** The shape of an ajv error, as the precompiled validator reports it. */
interface SchemaError {
  instancePath: string
  schemaPath: string
  keyword: string
  params: Record<string, any>
  message?: string
  /** The schema object that holds the failing keyword (the validator is compiled with `verbose`). */
  parentSchema?: { properties?: Record<string, unknown> }
}
type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null }

const compiledUrl = pathToFileURL(distPath('schemas', 'compose.validate.cjs'))

let validator: Promise<Validator> | undefined

/**
 * The validator precompiled from schemas/compose.schema.json at build time
 * (schemas/compile.mjs). Loaded with require, not import(): an import of a
 * CommonJS file first scans its 280 KB for named exports (cjs-module-lexer,
 * ~40 ms of a cold `config`), which require does not.
 */
function compiled(): Promise<Validator> {
  validator ??= Promise.resolve().then(() => createRequire(import.meta.url)(fileURLToPath(compiledUrl)) as Validator)
  return validator
}

/**
 * Checks the merged document against pier's Compose schema. The first
 * problem becomes a SpecError that names the field, where it was written, what
 * was expected and, for an unknown key, the key that was probably meant.
 */
export async function validateSchema(doc: Dict, sources: Sources): Promise<void> {
  // A document that passed once passes again: remember it, and skip loading the validator.
  const key = cacheKey('schema', String(statSync(compiledUrl).mtimeMs), JSON.stringify(doc))
  if (cacheGet('schema', key) !== undefined) return
  const validate = await compiled()
  if (validate(doc)) {
    cachePut('schema', key, '')
    return
  }
  const errors = validate.errors ?? []
  const error = pickError(errors)
  const path = fieldPath(doc, error.instancePath)
  const { message, at } = describe(error, errors, doc, path)
  throw new SpecError('schema', message, { loc: sources.locate(at), path: at })
}

/**
 * With `oneOf`, ajv reports one error per failed branch. The most useful one is
 * the deepest (the branch that got furthest), and at the same depth an unknown
 * key or a missing one says more than a type mismatch.
 */
function pickError(errors: SchemaError[]): SchemaError {
  const rank: Record<string, number> = { additionalProperties: 0, required: 1, enum: 2, pattern: 2, minimum: 2, maximum: 2, uniqueItems: 2, type: 3, oneOf: 9 }
  const depth = (e: SchemaError) => (e.instancePath === '' ? 0 : e.instancePath.split('/').length) + (e.keyword === 'additionalProperties' ? 1 : 0)
  const useful = errors.filter((e) => e.keyword !== 'oneOf')
  const candidates = useful.length > 0 ? useful : errors
  return candidates.reduce((best, e) => {
    if (depth(e) !== depth(best)) return depth(e) > depth(best) ? e : best
    return (rank[e.keyword] ?? 5) < (rank[best.keyword] ?? 5) ? e : best
  })
}

function describe(error: SchemaError, all: SchemaError[], doc: Dict, path: FieldPath): { message: string; at: FieldPath } {
  const p = error.params
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty)
      const at = childPath(path, key)
      const known = Object.keys(error.parentSchema?.properties ?? {})
      if (known.length === 0) {
        return { message: `invalid name "${key}": use only letters, digits, ".", "_" and "-"`, at }
      }
      const guess = closest(key, known)
      return { message: `unknown key "${key}"${guess ? `: did you mean "${guess}"?` : ''}`, at }
    }
    case 'required':
      return { message: `missing required key "${p.missingProperty}"`, at: path }
    case 'type': {
      const expected = expectedTypes(error, all)
      return { message: `expected ${expected}, got ${kindOf(valueAt(doc, error.instancePath))}`, at: path }
    }
    case 'enum':
      return { message: `invalid value ${JSON.stringify(valueAt(doc, error.instancePath))}: expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`, at: path }
    case 'pattern':
      return { message: `invalid value ${JSON.stringify(valueAt(doc, error.instancePath))}: it must match ${p.pattern}`, at: path }
    case 'uniqueItems':
      return { message: `items [${p.j}] and [${p.i}] are duplicates: list each value once`, at: path }
    case 'minimum':
    case 'maximum':
      return { message: `invalid value ${JSON.stringify(valueAt(doc, error.instancePath))}: must be ${p.comparison} ${p.limit}`, at: path }
    default:
      return { message: `invalid value: ${error.message ?? error.keyword}`, at: path }
  }
}

/** The expected types of every branch that failed at the same place, in one phrase. */
function expectedTypes(error: SchemaError, all: SchemaError[]): string {
  const types = new Set<string>()
  for (const e of all) {
    if (e.keyword === 'type' && e.instancePath === error.instancePath) {
      for (const t of String(e.params.type).split(',')) types.add(t)
    }
  }
  const names = [...types].map(typeName)
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`
}

function typeName(type: string): string {
  return ({ object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean', null: 'null' } as Record<string, string>)[type] ?? type
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  return `${typeof value === 'boolean' ? 'the boolean' : 'the number'} ${String(value)}`
}

/** `/services/web/ports/1` → `services.web.ports[1]`, using the data to tell list indexes from keys. */
function fieldPath(doc: unknown, pointer: string): FieldPath {
  let path = ''
  let node: any = doc
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    path = childPath(path, Array.isArray(node) ? Number(segment) : segment)
    node = node?.[segment]
  }
  return path
}

function valueAt(doc: unknown, pointer: string): unknown {
  let node: any = doc
  for (const raw of pointer.split('/').slice(1)) node = node?.[raw.replace(/~1/g, '/').replace(/~0/g, '~')]
  return node
}

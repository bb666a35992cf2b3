// Precompiles schemas/compose.schema.json into a standalone validator module
// (dist/schemas/compose.validate.cjs, CommonJS because ajv's
// standalone output requires its runtime helpers), so a pier process never pays for ajv's
// schema compilation at start-up: `npm run build` runs this after tsc.
import Ajv from 'ajv'
import standaloneCode from 'ajv/dist/standalone/index.js'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const schema = JSON.parse(readFileSync(join(root, 'schemas/compose.schema.json'), 'utf8'))
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, code: { source: true, optimize: true } })
const validate = ajv.compile(schema)
const out = join(root, 'dist/schemas/compose.validate.cjs')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, standaloneCode(ajv, validate))

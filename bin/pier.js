#!/usr/bin/env node
// The one-file bundle when it was built (npm run build makes it), else the compiled modules.
import { existsSync } from 'node:fs'

const bundle = new URL('../dist/pier.js', import.meta.url)
const entry = existsSync(bundle) ? bundle.href : new URL('../dist/src/cli/main.js', import.meta.url).href
import(entry).then((cli) => cli.main(process.argv))

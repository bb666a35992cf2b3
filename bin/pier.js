#!/usr/bin/env node
import('../dist/src/cli/main.js').then((cli) => cli.main(process.argv))

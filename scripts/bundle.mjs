// Bundles the CLI into one CommonJS file, dist/pier.cjs, which bin/pier.js
// runs when it exists: one script to read and compile instead of ~150
// modules (pier's own and its dependencies'), about 100 ms off every command,
// and, being a classic script, one V8 can keep a code cache of between runs
// (bin/pier.js; ~30 ms more off every command, bench/RESULTS.md). Node 20
// keeps no code cache for ES modules (module.enableCompileCache is Node 22).
// esbuild does the bundling; the container monitor and the reaper stay files
// of their own.
import { build } from 'esbuild'

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/pier.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // Less to parse at each start; names are kept, so --verbose stacks still read.
  minifyWhitespace: true,
  minifySyntax: true,
  // import() of a builtin becomes require(): a script run by vm.Script has no module loader of its own.
  supported: { 'dynamic-import': false },
  // Modules find files beside them through import.meta.url: in the bundle, beside dist/pier.cjs.
  define: { 'import.meta.url': '__pierUrl' },
  banner: { js: "const __pierUrl = require('node:url').pathToFileURL(__filename).href;" },
})

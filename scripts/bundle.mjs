// Bundles the CLI into one file, dist/pier.js, which bin/pier.js loads when it
// exists: one module to read and compile instead of ~150 (pier's own and its
// dependencies'), about 100 ms off every command (bench/RESULTS.md). esbuild
// does the bundling; the container monitor stays a file of its own.
import { build } from 'esbuild'

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/pier.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // Less to parse at each start; names are kept, so --verbose stacks still read.
  minifyWhitespace: true,
  minifySyntax: true,
  // CommonJS dependencies bundled into an ES module still call require().
  banner: { js: "import { createRequire as __pierRequire } from 'node:module'; const require = __pierRequire(import.meta.url);" },
})

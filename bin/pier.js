#!/usr/bin/env node
// The one-file bundle when it was built (npm run build makes dist/pier.cjs),
// else the compiled modules.
//
// The bundle runs as a classic script through vm.Script with V8's code cache
// kept beside it (dist/pier.cjs.cache): V8 then skips compiling what it
// compiled on an earlier run, about 30 ms of every command (bench/RESULTS.md).
// The cache starts with a SHA-256 of the bundle it was made from (~2 ms):
// V8's own check compares only the source's length, so a rebuilt bundle of
// the same length would otherwise run stale code. V8 still checks its
// version and flags and may reject the cache; it is then written again. A
// cache that cannot be written (a read-only install) only costs that time.
//
// A CommonJS script (bin/package.json says so), not an ES module: Node then
// skips loading and running its ES module loader for the entry, ~5-10 ms of
// every command (bench/RESULTS.md).
const { createHash } = require('node:crypto')
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs')
const Module = require('node:module')
const { dirname, join } = require('node:path')
const { pathToFileURL } = require('node:url')
const vm = require('node:vm')

const bundle = join(__dirname, '..', 'dist', 'pier.cjs')
if (existsSync(bundle)) runBundle(bundle).main(process.argv)
else import(pathToFileURL(join(__dirname, '..', 'dist', 'src', 'cli', 'main.js')).href).then((cli) => cli.main(process.argv))

function runBundle(file) {
  const cacheFile = `${file}.cache`
  const source = readFileSync(file)
  const digest = createHash('sha256').update(source).digest()
  let cachedData
  try {
    const cache = readFileSync(cacheFile)
    if (cache.subarray(0, digest.length).equals(digest)) cachedData = cache.subarray(digest.length)
  } catch {
    cachedData = undefined
  }
  const script = new vm.Script(Module.wrap(source.toString('utf8')), { filename: file, ...(cachedData ? { cachedData } : {}) })
  const module = { exports: {} }
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, dirname(file))
  if (!cachedData || script.cachedDataRejected) {
    // Written once the run's first steps compiled what they use, through a
    // rename so a concurrent pier never reads half a cache.
    setImmediate(() => {
      try {
        const temporary = `${cacheFile}.${process.pid}`
        writeFileSync(temporary, Buffer.concat([digest, script.createCachedData()]))
        renameSync(temporary, cacheFile)
      } catch {
        // A read-only install: no cache, the same behaviour.
      }
    })
  }
  return module.exports
}

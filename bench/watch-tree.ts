/**
 * The watcher on a large tree (issue 15): 100,000 files, 95,000 of them in
 * node_modules, which the rule ignores. Prints the time until the watcher is
 * ready, the memory it took, and the number of OS (inotify) watches it holds
 * — node_modules should cost none. Medians of several fresh watchers.
 * Usage: node dist/bench/watch-tree.js [runs]   (default 3)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Service } from '../src/spec/project.js'
import { compileRule, skipDirectory } from '../src/watch/rules.js'
import { startWatcher } from '../src/watch/watcher.js'
import { inotifyWatches } from '../test/support/inotify.js'
import { median } from './common.js'

const runs = Number(process.argv[2] ?? 3)
const root = mkdtempSync(join(tmpdir(), 'pier-bench-tree-'))

function makeTree(): void {
  // 950 packages of 100 files in node_modules, 50 source directories of 100 files.
  for (let p = 0; p < 950; p++) {
    const dir = join(root, 'node_modules', `pkg${p}`, 'lib')
    mkdirSync(dir, { recursive: true })
    for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.js`), '')
  }
  for (let d = 0; d < 50; d++) {
    const dir = join(root, 'src', `mod${d}`)
    mkdirSync(dir, { recursive: true })
    for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.ts`), '')
  }
}

async function main(): Promise<void> {
  const started = performance.now()
  makeTree()
  console.log(`tree of 100,000 files written in ${Math.round(performance.now() - started)} ms`)
  const service = { name: 'web', develop: { watch: [{ action: 'sync', path: root, target: '/app', ignore: ['node_modules'] }] } } as unknown as Service
  const rules = [compileRule(service, 0)]
  const ready: number[] = []
  const memory: number[] = []
  const watches: number[] = []
  for (let i = 0; i < runs; i++) {
    global.gc?.()
    const before = process.memoryUsage().rss
    const start = performance.now()
    const watcher = startWatcher({ paths: [root], skip: (path, isDir) => isDir && skipDirectory(rules, path), onBatch: () => {}, onOverflow: () => {} })
    await watcher.ready
    ready.push(performance.now() - start)
    memory.push((process.memoryUsage().rss - before) / 1024 / 1024)
    watches.push(inotifyWatches())
    await watcher.close()
  }
  console.log(`watcher ready: median ${Math.round(median(ready))} ms (runs: ${ready.map(Math.round).join(', ')})`)
  console.log(`memory taken (RSS): median ${median(memory).toFixed(1)} MiB`)
  console.log(`inotify watches: ${watches.join(', ')} (the tree outside node_modules has 5,000 files in 52 directories; node_modules has 95,000 files in 1,901)`)
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => rmSync(root, { recursive: true, force: true }))

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { repoRoot } from '../support/helpers.js'

/**
 * The layer rules of DESIGN.md, checked on the import graph of src/: data
 * flows one way (spec → planner → compose → cli), the engine is reached
 * through its contract, and src/network serves the embedded driver alone.
 * A wrong-way import fails here, naming the file and the import.
 */
const src = join(repoRoot, 'src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

/** Every relative import of every file, static or dynamic, as paths under src/ (`planner/reconcile.ts`). */
function imports(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = []
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      out.push({ from: relative(src, file), to: relative(src, resolve(dirname(file), m[1])).replace(/\.js$/, '.ts') })
    }
  }
  return out
}

/** What each layer may import, besides itself; paths are prefixes under src/. */
const ALLOWED: [layer: string, may: string[]][] = [
  ['spec/', ['errors.ts', 'paths.ts', 'lock.ts']],
  ['planner/', ['spec/', 'engine/engine.ts', 'engine/errors.ts', 'errors.ts', 'labels.ts']],
  // Kubernetes manifests are made from the Project alone, at the planner's level: no engine, no orchestration.
  ['kubernetes/', ['spec/', 'errors.ts', 'labels.ts']],
  ['compose/', ['spec/', 'planner/', 'watch/', 'engine/engine.ts', 'engine/errors.ts', 'engine/index.ts', 'errors.ts', 'labels.ts']],
  // File watching is a mechanism the compose layer drives: it is handed the verbs it needs (rebuild, restart).
  ['watch/', ['spec/', 'engine/engine.ts', 'engine/errors.ts', 'engine/dockerignore.ts', 'errors.ts', 'labels.ts']],
  ['network/', ['engine/engine.ts', 'engine/errors.ts', 'errors.ts', 'lock.ts', 'paths.ts']],
  // spec/units.ts is a pure parser of durations, shared with the Dockerfile's HEALTHCHECK flags.
  ['engine/embedded/', ['engine/', 'network/', 'errors.ts', 'lock.ts', 'paths.ts', 'labels.ts', 'spec/units.ts']],
  // Swarm services are not containers: src/swarm stands beside compose/, speaking the Docker API through the docker driver's client.
  ['swarm/', ['spec/', 'planner/hash.ts', 'planner/names.ts', 'planner/graph.ts', 'planner/errors.ts', 'engine/docker/client.ts', 'engine/docker/streams.ts', 'engine/errors.ts', 'errors.ts', 'labels.ts']],
  ['cli/', ['spec/', 'planner/', 'compose/', 'kubernetes/', 'swarm/', 'engine/engine.ts', 'engine/errors.ts', 'engine/index.ts', 'engine/tar.ts', 'engine/reference.ts', 'engine/platform.ts', 'errors.ts', 'labels.ts', 'paths.ts']],
]

/**
 * Known exceptions, each with its reason; the list may only shrink.
 * engine/tar.ts holds `cp`'s host-side tar helpers and borrows the embedded
 * driver's safe extraction; it moves behind the contract with the docker driver.
 */
const EXCEPTIONS = new Set(['engine/tar.ts imports engine/embedded/containers/copy.ts', 'engine/tar.ts imports engine/embedded/images/extract.ts'])

describe('the layers of src/ import only downwards', () => {
  const graph = imports()

  it('finds the imports it checks', () => {
    assert.ok(graph.length > 200, `found ${graph.length}`)
  })

  for (const [layer, may] of ALLOWED) {
    it(`${layer} imports only ${may.join(', ')}`, () => {
      const wrong = graph.filter((i) => i.from.startsWith(layer) && !i.to.startsWith(layer) && !may.some((m) => i.to.startsWith(m)))
      assert.deepEqual(wrong.map((i) => `${i.from} imports ${i.to}`), [])
    })
  }

  it('nothing outside the embedded driver reaches into it (engine/index.ts loads it by name)', () => {
    const wrong = graph.filter((i) => i.to.startsWith('engine/embedded/') && !i.from.startsWith('engine/embedded/') && i.from !== 'engine/index.ts' && !EXCEPTIONS.has(`${i.from} imports ${i.to}`))
    assert.deepEqual(wrong.map((i) => `${i.from} imports ${i.to}`), [])
  })
})

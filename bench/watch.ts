/**
 * File watch, measured end to end on the embedded engine, in one process
 * (the watch verb as `pier watch` runs it):
 * - save → served: a file under a `sync` rule is rewritten, and the time
 *   until busybox httpd in the container serves the new content is taken
 *   (HTTP polled every 2 ms), over `edits` saves spaced 150 ms apart;
 * - burst: 1,000 new files written and 200 existing ones deleted at once,
 *   and the time until the container's tree equals the host's (the tree
 *   compared every 100 ms), over `bursts` runs.
 * Usage: node dist/bench/watch.js [edits] [bursts]   (default 50 3)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { down } from '../src/compose/down.js'
import { up } from '../src/compose/up.js'
import { watch } from '../src/compose/watch.js'
import { EmbeddedEngine } from '../src/engine/embedded/engine.js'
import { LABEL } from '../src/labels.js'
import { loadProject } from '../src/spec/load.js'
import { containerSignatures, hostSignature, walk } from '../src/watch/sync.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median } from './common.js'

const edits = Number(process.argv[2] ?? 50)
const bursts = Number(process.argv[3] ?? 3)
const work = mkdtempSync(join(tmpdir(), 'pier-bench-watch-'))
const engine = new EmbeddedEngine({ root: join(work, 'root') })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]

async function main() {
  await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['busybox:latest'])])))
  const dir = join(work, 'project')
  mkdirSync(join(dir, 'www'), { recursive: true })
  writeFileSync(join(dir, 'www', 'index.html'), 'v0\n')
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: benchwatch
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www; exec httpd -f -p 80 -h /www"]
    stop_signal: SIGKILL
    develop:
      watch:
        - { action: sync, path: ./www, target: /www, initial_sync: true }
`,
  )
  const project = await loadProject({ cwd: dir, environment: {}, onWarning: () => undefined })
  const controller = new AbortController()
  const t0 = performance.now()
  const ctx = { engine, signal: controller.signal, ...(process.env.BENCH_VERBOSE ? { reporter: { message: (m: string) => console.error(`${(performance.now() - t0).toFixed(0)} ${m}`) } } : {}) }
  await up(ctx, project)
  let watching: Promise<void> | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      watching = watch(ctx, project, { noUp: true, onReady: resolve })
      watching.catch(reject)
    })
    const [web] = await engine.listContainers({ [LABEL.project]: project.name, [LABEL.service]: 'web' })
    const url = `http://${Object.values(web.addresses)[0]}/index.html`
    const get = async () => fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.text()).catch(() => '')
    while ((await get()) !== 'v0\n') await sleep(50)

    const latencies: number[] = []
    for (let i = 1; i <= edits; i++) {
      const content = `v${i}\n`
      const start = performance.now()
      writeFileSync(join(dir, 'www', 'index.html'), content)
      while ((await get()) !== content) {
        if (performance.now() - start > 10_000) throw new Error(`edit ${i} not served after 10 s`)
        await sleep(2)
      }
      latencies.push(performance.now() - start)
      await sleep(150)
    }
    console.log(`save → served (${edits} edits): p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, min ${Math.min(...latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`)

    const burstTimes: number[] = []
    // The writes are synchronous, in this process: the watcher hears of them once they are all done.
    const writeTimes: number[] = []
    for (let run = 0; run < bursts; run++) {
      const base = join(dir, 'www', `burst${run}`)
      // 200 files there (and synced) before the burst, deleted in it.
      mkdirSync(join(base, 'old'), { recursive: true })
      for (let i = 0; i < 200; i++) writeFileSync(join(base, 'old', `f${i}.txt`), `old ${i}\n`)
      await untilEqual(web.id, dir, 60_000)
      const start = performance.now()
      for (let i = 0; i < 1000; i++) {
        if (i % 100 === 0) mkdirSync(join(base, 'new', `d${i / 100}`), { recursive: true })
        writeFileSync(join(base, 'new', `d${Math.floor(i / 100)}`, `f${i}.txt`), `new ${i} ${'x'.repeat(i % 500)}\n`)
      }
      for (let i = 0; i < 200; i++) rmSync(join(base, 'old', `f${i}.txt`))
      writeTimes.push(performance.now() - start)
      await untilEqual(web.id, dir, 60_000)
      burstTimes.push(performance.now() - start)
    }
    console.log(`1,000 new files + 200 deletes → container tree equal to the host's (${bursts} runs): median ${median(burstTimes).toFixed(0)} ms (${burstTimes.map((t) => t.toFixed(0)).join(', ')}), of which writing the files ${median(writeTimes).toFixed(0)} ms`)
  } finally {
    controller.abort()
    await watching?.catch(() => undefined)
    await down({ engine }, project, { volumes: true, stopTimeoutMs: 0 })
    await engine.close()
    rmSync(work, { recursive: true, force: true })
  }
}

/** Until the container's /www equals the host's www (every path's type, mode and content). */
async function untilEqual(id: string, dir: string, timeoutMs: number): Promise<void> {
  const root = join(dir, 'www')
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const host = new Map<string, string>()
    for (const p of await walk(root, () => true)) host.set(p === root ? '/www' : `/www/${p.slice(root.length + 1)}`, (await hostSignature(p))!)
    const container = await containerSignatures(engine, id, '/www', () => true)
    if (host.size === container.size && [...host].every(([k, v]) => container.get(k) === v)) return
    if (performance.now() > deadline) throw new Error(`the trees still differ after ${timeoutMs} ms`)
    // Not more often: each comparison reads both trees, and would slow the sync it measures.
    await sleep(100)
  }
}

await main()

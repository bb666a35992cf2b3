/**
 * Container lifecycle on the embedded engine: create + start + wait for a
 * trivial command + remove, for one container and for 30 in parallel,
 * through the library in one process (medians of several runs). The floor is
 * runc itself: `runc run` of a trivial container.
 * Usage: node dist/bench/containers.js [runs]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { EmbeddedEngine } from '../src/engine/embedded/engine.js'
import { specFor } from '../test/support/containers.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median } from './common.js'

const runs = Number(process.argv[2] ?? 5)

async function lifecycle(engine: EmbeddedEngine, name: string): Promise<void> {
  const c = await engine.createContainer(specFor(name, ['true']))
  await engine.start(c.id)
  await engine.wait(c.id)
  await engine.remove(c.id)
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pier-bench-containers-'))
  try {
    const engine = new EmbeddedEngine({ root })
    await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage()])))
    await lifecycle(engine, 'warmup')
    const one: number[] = []
    const thirty: number[] = []
    for (let i = 0; i < runs; i++) {
      let start = performance.now()
      await lifecycle(engine, `one-${i}`)
      one.push(performance.now() - start)
      start = performance.now()
      await Promise.all(Array.from({ length: 30 }, (_, j) => lifecycle(engine, `par-${i}-${j}`)))
      thirty.push(performance.now() - start)
    }
    const fmt = (t: number[]) => `median ${median(t).toFixed(0)} ms (min ${Math.min(...t).toFixed(0)}, max ${Math.max(...t).toFixed(0)})`
    console.log(`create + start + wait + remove of \`true\` in busybox, ${runs} runs`)
    console.log(`  1 container:               ${fmt(one)}`)
    console.log(`  30 containers in parallel: ${fmt(thirty)}`)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
  // The floor: runc alone, on a prepared bundle.
  const bundle = mkdtempSync(join(tmpdir(), 'pier-bench-runc-'))
  try {
    spawnSync('sh', ['-c', `mkdir -p ${bundle}/rootfs/bin && cp /bin/busybox ${bundle}/rootfs/bin/ && ln -s busybox ${bundle}/rootfs/bin/true && cd ${bundle} && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json`])
    const floor: number[] = []
    for (let i = 0; i < runs * 2; i++) {
      const start = performance.now()
      spawnSync('runc', ['--root', join(bundle, 'state'), 'run', '--bundle', bundle, `floor-${i}`])
      floor.push(performance.now() - start)
    }
    console.log(`  runc run alone (floor):    median ${median(floor).toFixed(0)} ms`)
  } finally {
    rmSync(bundle, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

/**
 * Image store figures: `pier image load` of a 10-layer docker save archive,
 * and `pier pull` of the same image from a local docker-registry, cold (a
 * fresh engine root) and again with every layer present. Each is a whole
 * pier process; medians of several runs.
 * Usage: node dist/bench/images.js [runs]
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { busyboxLayer, configFor, dockerArchive, tarOf } from '../test/support/images.js'
import { TestRegistry } from '../test/support/registry.js'
import { median, pierBin } from './common.js'

const runs = Number(process.argv[2] ?? 5)
const LAYER_BYTES = 2 * 1024 * 1024

function pier(args: string[], root: string, cwd: string): number {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [pierBin, '--progress', 'quiet', ...args], { cwd, env: { ...process.env, PIER_ROOT: root }, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`pier ${args.join(' ')} failed: ${result.stderr}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pier-bench-images-'))
  const registry = await new TestRegistry().start()
  const roots: string[] = []
  const freshRoot = () => {
    const r = mkdtempSync(join(tmpdir(), 'pier-bench-root-'))
    roots.push(r)
    return r
  }
  try {
    // Ten layers: busybox, then nine of 2 MiB of random (incompressible) data each.
    const layers = [await busyboxLayer()]
    for (let i = 1; i < 10; i++) layers.push(await tarOf([{ name: `data/layer-${i}.bin`, content: randomBytes(LAYER_BYTES) }]))
    const name = `${registry.host}/bench/ten:1`
    writeFileSync(join(work, 'ten.tar'), await dockerArchive([{ tags: [name], layers, config: configFor(layers) }]))

    const load = Array.from({ length: runs }, () => pier(['image', 'load', '-i', 'ten.tar'], freshRoot(), work))
    const source = freshRoot()
    pier(['image', 'load', '-i', 'ten.tar'], source, work)
    pier(['push', name], source, work)
    const cold = Array.from({ length: runs }, () => pier(['pull', name], freshRoot(), work))
    const warmRoot = freshRoot()
    pier(['pull', name], warmRoot, work)
    const warm = Array.from({ length: runs }, () => pier(['pull', name], warmRoot, work))

    const fmt = (t: number[]) => `median ${median(t).toFixed(0)} ms (min ${Math.min(...t).toFixed(0)}, max ${Math.max(...t).toFixed(0)})`
    console.log(`10-layer image (busybox + 9 x 2 MiB), ${runs} runs each, whole pier processes`)
    console.log(`  pier image load -i (fresh root):        ${fmt(load)}`)
    console.log(`  pier pull from 127.0.0.1 (cold root):   ${fmt(cold)}`)
    console.log(`  pier pull again (all layers present):   ${fmt(warm)}`)
  } finally {
    await registry.stop()
    for (const r of roots) rmSync(r, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

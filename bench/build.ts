/**
 * Builder figures on a 10-step two-stage Dockerfile on the busybox test
 * image: a cold build (every step run: --no-cache), a rebuild with nothing
 * changed (every step CACHED), a rebuild after one source file changed
 * (the steps from its COPY on rerun). Build time in-process (the engine's
 * buildImage), and the unchanged rebuild again as a whole `pier build`
 * process (Node start included); then two independent stages built side by
 * side against the same two built one after the other. Medians of several runs.
 * Usage: node dist/bench/build.js [runs]
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { EmbeddedEngine } from '../src/engine/embedded/engine.js'
import type { BuildSpec } from '../src/engine/engine.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median, pierBin } from './common.js'

const runs = Number(process.argv[2] ?? 5)

const DOCKERFILE = `FROM busybox AS build
WORKDIR /src
COPY src/ ./
RUN cat a.txt b.txt > out.txt
RUN echo built >> out.txt
FROM busybox
ENV APP=/app
COPY --from=build /src/out.txt /app/out.txt
COPY src/a.txt /app/a.txt
CMD ["cat", "/app/out.txt"]
`

/** Two stages that do not read each other (each a RUN of CPU work), read by a last one: built side by side. */
const INDEPENDENT = `FROM busybox AS left
RUN i=0; while [ $i -lt 40000 ]; do i=$((i+1)); done; echo $i > /left
FROM busybox AS right
RUN i=0; while [ $i -lt 40000 ]; do i=$((i+1)); done; echo $i > /right
FROM busybox
COPY --from=left /left /left
COPY --from=right /right /right
`

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pier-bench-build-'))
  const root = join(work, 'root')
  const context = join(work, 'app')
  mkdirSync(join(context, 'src'), { recursive: true })
  writeFileSync(join(context, 'Dockerfile'), DOCKERFILE)
  writeFileSync(join(context, 'src', 'a.txt'), 'a\n')
  writeFileSync(join(context, 'src', 'b.txt'), 'b\n')
  writeFileSync(join(context, 'compose.yaml'), 'services:\n  app:\n    build: .\n')
  const engine = new EmbeddedEngine({ root })
  try {
    await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['busybox:latest'])])))
    const spec: BuildSpec = { context, args: {}, labels: {}, tags: ['bench-app:latest'] }
    const timed = async (extra: Partial<BuildSpec>) => {
      const start = process.hrtime.bigint()
      await engine.buildImage({ ...spec, ...extra })
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    const cold: number[] = []
    const unchanged: number[] = []
    const changed: number[] = []
    const processes: number[] = []
    for (let n = 0; n < runs; n++) {
      cold.push(await timed({ noCache: true }))
      unchanged.push(await timed({}))
      writeFileSync(join(context, 'src', 'b.txt'), `b ${n}\n`)
      changed.push(await timed({}))
      const start = process.hrtime.bigint()
      const result = spawnSync(process.execPath, [pierBin, '--progress', 'quiet', 'build'], { cwd: context, env: { ...process.env, PIER_ROOT: root }, encoding: 'utf8' })
      if (result.status !== 0) throw new Error(`pier build failed: ${result.stderr}`)
      processes.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
    // Independent stages: the whole build against each stage alone (target), one after the other.
    const parallel: number[] = []
    const oneByOne: number[] = []
    for (let n = 0; n < runs; n++) {
      parallel.push(await timed({ dockerfileInline: INDEPENDENT, noCache: true }))
      oneByOne.push((await timed({ dockerfileInline: INDEPENDENT, noCache: true, target: 'left' })) + (await timed({ dockerfileInline: INDEPENDENT, noCache: true, target: 'right' })))
    }
    const row = (label: string, values: number[]) => console.log(`${label.padEnd(44)} ${(median(values) / 1000).toFixed(3)} s  (${values.map((v) => (v / 1000).toFixed(3)).join(', ')})`)
    console.log(`10-step two-stage Dockerfile on busybox, medians of ${runs}`)
    row('cold build (--no-cache)', cold)
    row('rebuild, nothing changed (all CACHED)', unchanged)
    row('rebuild, one source file changed', changed)
    row('`pier build`, nothing changed (whole process)', processes)
    console.log(`two independent stages and a last one reading both, medians of ${runs}`)
    row('cold build, stages side by side', parallel)
    row('the two stages built one after the other', oneByOne)
  } finally {
    await engine.close()
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

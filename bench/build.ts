/**
 * Builder figures on a 10-step two-stage Dockerfile on the busybox test
 * image: a cold build (every step run: --no-cache), a rebuild with nothing
 * changed (every step CACHED), a rebuild after one source file changed
 * (the steps from its COPY on rerun). Build time in-process (the engine's
 * buildImage); then each of the three as a whole `pier build` process (Node
 * start included: wall time, and the CPU time it took, steadier on a shared
 * machine), side by side with `docker build` of the same Dockerfile on a
 * private dockerd (test/support/dockerd.ts; the classic builder: this
 * docker CLI has no buildx for BuildKit), and their ratios; then two
 * independent stages built side by side against the same two built one
 * after the other. Medians of several runs, pier and docker interleaved.
 * Usage: node dist/bench/build.js [runs] [--no-docker]
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { DockerEngine } from '../src/engine/docker/engine.js'
import { EmbeddedEngine } from '../src/engine/embedded/engine.js'
import type { BuildSpec } from '../src/engine/engine.js'
import { acquireDaemon, loadBusybox, releaseDaemon } from '../test/support/dockerd.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median, pierBin } from './common.js'

const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 5)
const withDocker = !process.argv.includes('--no-docker') && existsSync('/usr/sbin/dockerd') && spawnSync('docker', ['--version']).status === 0

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

/** A whole process: wall milliseconds, and CPU milliseconds (user + sys, by GNU time) when /usr/bin/time is there. */
function processTime(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): { wall: number; cpu?: number } {
  const timer = existsSync('/usr/bin/time')
  const start = process.hrtime.bigint()
  const r = spawnSync(timer ? '/usr/bin/time' : argv[0], timer ? ['-f', 'cpu %U %S', ...argv] : argv.slice(1), { ...options, encoding: 'utf8' })
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`)
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr)
  return { wall, ...(cpu ? { cpu: (Number(cpu[1]) + Number(cpu[2])) * 1000 } : {}) }
}

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
  let docker: { host: string } | undefined
  try {
    await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['busybox:latest'])])))
    if (withDocker) {
      docker = await acquireDaemon('docker')
      const client = await DockerEngine.connect(docker.host)
      await loadBusybox(client)
      await client.close()
    }
    const spec: BuildSpec = { context, args: {}, labels: {}, tags: ['bench-app:latest'] }
    const timed = async (extra: Partial<BuildSpec>) => {
      const start = process.hrtime.bigint()
      await engine.buildImage({ ...spec, ...extra })
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    const cold: number[] = []
    const unchanged: number[] = []
    const changed: number[] = []
    for (let n = 0; n < runs; n++) {
      cold.push(await timed({ noCache: true }))
      unchanged.push(await timed({}))
      writeFileSync(join(context, 'src', 'b.txt'), `b ${n}\n`)
      changed.push(await timed({}))
    }
    // Whole processes, pier and docker in turn: cold, nothing changed, one file changed.
    const cases = ['cold (--no-cache)', 'nothing changed', 'one source file changed'] as const
    const pierRuns = cases.map(() => ({ wall: [] as number[], cpu: [] as number[] }))
    const dockerRuns = cases.map(() => [] as number[])
    const pierEnv = { ...process.env, PIER_ROOT: root }
    const dockerEnv = { ...process.env, DOCKER_HOST: docker?.host ?? '', DOCKER_BUILDKIT: '0' }
    const pier = (c: number, extra: string[]) => {
      const t = processTime([process.execPath, pierBin, '--progress', 'quiet', 'build', ...extra], { cwd: context, env: pierEnv })
      pierRuns[c].wall.push(t.wall)
      if (t.cpu !== undefined) pierRuns[c].cpu.push(t.cpu)
    }
    const dockerBuild = (c: number, extra: string[]) => {
      if (docker) dockerRuns[c].push(processTime(['docker', 'build', '-q', '-t', 'bench-app:latest', ...extra, '.'], { cwd: context, env: dockerEnv }).wall)
    }
    // One build each first, so "nothing changed" finds a cache (and docker's `FROM busybox` its image).
    pier(0, ['--no-cache'])
    dockerBuild(0, ['--no-cache'])
    for (const r of [pierRuns[0].wall, pierRuns[0].cpu, dockerRuns[0]]) r.length = 0
    for (let n = 0; n < runs; n++) {
      pier(0, ['--no-cache'])
      dockerBuild(0, ['--no-cache'])
      pier(1, [])
      dockerBuild(1, [])
      writeFileSync(join(context, 'src', 'b.txt'), `b process ${n}\n`)
      pier(2, [])
      dockerBuild(2, [])
    }
    // Independent stages: the whole build against each stage alone (target), one after the other.
    const parallel: number[] = []
    const oneByOne: number[] = []
    for (let n = 0; n < runs; n++) {
      parallel.push(await timed({ dockerfileInline: INDEPENDENT, noCache: true }))
      oneByOne.push((await timed({ dockerfileInline: INDEPENDENT, noCache: true, target: 'left' })) + (await timed({ dockerfileInline: INDEPENDENT, noCache: true, target: 'right' })))
    }
    const seconds = (values: number[]) => `${(median(values) / 1000).toFixed(3)} s`
    const row = (label: string, values: number[]) => console.log(`${label.padEnd(44)} ${seconds(values)}  (${values.map((v) => (v / 1000).toFixed(3)).join(', ')})`)
    console.log(`10-step two-stage Dockerfile on busybox, medians of ${runs}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`)
    console.log('in-process (the engine\'s buildImage):')
    row('  cold build (--no-cache)', cold)
    row('  rebuild, nothing changed (all CACHED)', unchanged)
    row('  rebuild, one source file changed', changed)
    console.log(`whole processes: \`pier build\` (wall, CPU user+sys)${docker ? ' against `docker build` (classic builder, dockerd ' + dockerdVersion() + '; wall)' : ''}:`)
    for (const [c, what] of cases.entries()) {
      const p = pierRuns[c]
      const cpu = p.cpu.length ? `, CPU ${seconds(p.cpu)}` : ''
      const d = docker ? `   docker build ${seconds(dockerRuns[c])}   pier/docker ${(median(p.wall) / median(dockerRuns[c])).toFixed(2)}` : ''
      console.log(`  ${what.padEnd(26)} pier ${seconds(p.wall)}${cpu}${d}`)
    }
    console.log(`two independent stages and a last one reading both, medians of ${runs}`)
    row('cold build, stages side by side', parallel)
    row('the two stages built one after the other', oneByOne)
  } finally {
    await engine.close()
    if (docker) await releaseDaemon('docker')
    rmSync(work, { recursive: true, force: true })
  }
}

function dockerdVersion(): string {
  return /version ([^\s,]+)/.exec(spawnSync('/usr/sbin/dockerd', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?'
}

await main()

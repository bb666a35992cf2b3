/**
 * What a pier command costs, in figures that hold on a loaded machine: the
 * CPU time of the command and of every process it starts (the container
 * monitor and the runtime included), from a cpuacct cgroup the command runs
 * in; the processes it spawns, by program (strace, on a separate run); and
 * the wall time, interleaved between builds so that both see the same load.
 *
 * Compares builds: each --pier is a pier bin/pier.js (e.g. a copy of the
 * build before a change, and this one). Figures: `up -d` of 30 services, a
 * no-op `up -d`, `ps`, `down`, `up -d` and `down` of a 10-deep depends_on
 * chain, and `config -q` of 1,000 services without the load cache.
 * Usage: node dist/bench/cost.js [runs] [--pier path]… [--spawns] [--only text]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median, pierBin, repoRoot } from './common.js'
import { generateProject, servicesFile } from './projects.js'

const argv = process.argv.slice(2)
const runs = Number(argv.find((a) => /^\d+$/.test(a)) ?? 5)
const piers = argv.flatMap((a, i) => (argv[i - 1] === '--pier' ? [a] : []))
if (piers.length === 0) piers.push(pierBin)
const withSpawns = argv.includes('--spawns')
/** `--only 30`, `--only chain` or `--only config`: that group of figures alone. */
const only = argv.flatMap((a, i) => (argv[i - 1] === '--only' ? [a] : []))[0]

const work = mkdtempSync(join(tmpdir(), 'pier-bench-cost-'))
const cgroup = `/sys/fs/cgroup/cpuacct/pier-bench-cost-${process.pid}`
/** Projects up at this moment (bin, file, name), taken down at the end should the bench fail halfway. */
const live = new Map<string, { bin: string; env: NodeJS.ProcessEnv; file: string; project: string }>()

interface Cost {
  wallMs: number
  cpuMs: number
}

/** Runs one command inside the bench's cgroup: its wall time and the CPU time of it and everything it started meanwhile. */
function costed(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Cost {
  const before = Number(readFileSync(join(cgroup, 'cpuacct.usage'), 'utf8'))
  const start = performance.now()
  // The shell joins the cgroup, then becomes the command: its children are born in it.
  const r = spawnSync('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, 'sh', command, ...args], { env, cwd, encoding: 'utf8' })
  const wallMs = performance.now() - start
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`)
  const cpuMs = (Number(readFileSync(join(cgroup, 'cpuacct.usage'), 'utf8')) - before) / 1e6
  return { wallMs, cpuMs }
}

/** The programs pier's processes (the command and its monitor) spawn while the command runs, counted by name. */
function spawned(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Map<string, number> {
  const log = join(work, 'spawns.log')
  rmSync(log, { force: true })
  const counter = join(repoRoot, 'dist', 'bench', 'spawn-count.js')
  const r = spawnSync(command, args, { env: { ...env, PIER_BENCH_SPAWNS: log, NODE_OPTIONS: `--import ${counter}` }, cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`)
  const counts = new Map<string, number>()
  for (const line of (existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n').filter(Boolean)) {
    const [, name, script, ms] = line.split(' ')
    // The command's own process: its CPU time, which its spawns came out of.
    if (name === 'cpu') {
      if (script === 'pier.js') counts.set('(cpu ms of the pier process)', Number(ms))
      continue
    }
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  return counts
}

async function main(): Promise<void> {
  mkdirSync(cgroup)
  try {
    const archive = join(work, 'busybox.tar')
    writeFileSync(archive, await dockerArchive([await busyboxImage(['busybox:latest'])]))
    const s30 = servicesFile(work, 'thirty', 30, false)
    const chain = servicesFile(work, 'chain', 10, true)
    const configDir = join(work, 'config')
    mkdirSync(configDir)
    writeFileSync(join(configDir, 'compose.yaml'), generateProject(1000))
    writeFileSync(join(configDir, '.env'), 'REGION=eu\nTAG=1.36\n')

    const variants = piers.map((bin, i) => {
      const env = { ...process.env, PIER_ROOT: join(work, `root${i}`), PIER_CACHE_DIR: join(work, `cache${i}`) }
      execFileSync(process.execPath, [bin, 'image', 'load', '-i', archive], { env, stdio: 'ignore' })
      const pier = (file: string, project: string, args: string[]) => {
        const key = `${i} ${project}`
        if (args[0] === 'up') live.set(key, { bin, env, file, project })
        if (args[0] === 'down') live.delete(key)
        return [bin, '-f', file, '-p', project, '--progress', 'quiet', ...args]
      }
      return { bin, env, pier }
    })
    const figures = ['up -d, 30 services', 'no-op up -d, 30', 'ps, 30', 'down, 30', 'up -d, 10-deep chain', 'down, chain', 'config -q, 1000 services, no cache'] as const
    const results = variants.map(() => new Map<string, Cost[]>(figures.map((f) => [f, []])))

    for (let r = 0; r < runs; r++) {
      // Alternating builds, so that each sees the same load.
      for (const [i, v] of variants.entries()) {
        const add = (figure: (typeof figures)[number], cost: Cost) => results[i].get(figure)!.push(cost)
        const node = process.execPath
        if (!only || '30'.includes(only)) {
          add('up -d, 30 services', costed(node, v.pier(s30, `cost${r}`, ['up', '-d']), v.env))
          add('no-op up -d, 30', costed(node, v.pier(s30, `cost${r}`, ['up', '-d']), v.env))
          add('ps, 30', costed(node, v.pier(s30, `cost${r}`, ['ps']), v.env))
          add('down, 30', costed(node, v.pier(s30, `cost${r}`, ['down']), v.env))
        }
        if (!only || only === 'chain') {
          add('up -d, 10-deep chain', costed(node, v.pier(chain, `costc${r}`, ['up', '-d']), v.env))
          add('down, chain', costed(node, v.pier(chain, `costc${r}`, ['down']), v.env))
        }
        if (!only || only === 'config') add('config -q, 1000 services, no cache', costed(node, [v.bin, 'config', '-q'], { ...v.env, PIER_NO_CACHE: '1' }, configDir))
      }
    }

    console.log(`${runs} runs, builds interleaved; medians of wall time and of CPU time (user+sys of the command and all it started); load average now ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
    for (const figure of figures) {
      const cells = results.map((res) => {
        const costs = res.get(figure)!
        return `wall ${median(costs.map((c) => c.wallMs)).toFixed(0).padStart(5)} ms, cpu ${median(costs.map((c) => c.cpuMs)).toFixed(0).padStart(5)} ms`
      })
      console.log(`${figure.padEnd(36)} ${cells.join('   |   ')}`)
    }

    if (withSpawns) {
      for (const v of variants) {
        const node = process.execPath
        const show = (what: string, counts: Map<string, number>) =>
          console.log(`${what}: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`)
        console.log(`spawned processes (${v.bin}):`)
        show('  up -d, 30', spawned(node, v.pier(s30, 'coststrace', ['up', '-d']), v.env))
        show('  no-op up -d, 30', spawned(node, v.pier(s30, 'coststrace', ['up', '-d']), v.env))
        show('  ps, 30', spawned(node, v.pier(s30, 'coststrace', ['ps']), v.env))
        show('  down, 30', spawned(node, v.pier(s30, 'coststrace', ['down']), v.env))
      }
    }
  } finally {
    for (const { bin, env, file, project } of live.values()) spawnSync(process.execPath, [bin, '-f', file, '-p', project, 'down'], { env, stdio: 'ignore' })
    // The monitors are gone once their containers are; the cgroup then empties.
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(cgroup)
        break
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

/**
 * Times `pier config -q` as a whole process (Node start included) on a
 * generated 1000-service project that uses extends, anchors and merge keys,
 * .env interpolation, ports, volumes and environment. Prints the median of
 * several runs, without the load cache (every run parses and validates) and
 * with it (the first run fills it). CPU time (user + system) is read with
 * /usr/bin/time when it is installed: on a loaded 2-core machine it varies
 * less than wall time. Usage: node dist/bench/config.js [services] [runs]
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { median, pierBin } from './common.js'
import { generateProject } from './projects.js'

const services = Number(process.argv[2] ?? 1000)
const runs = Number(process.argv[3] ?? 11)

/** GNU time, for the CPU a run used. */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'pier-bench-config-'))
  try {
    writeFileSync(join(dir, 'compose.yaml'), generateProject(services))
    writeFileSync(join(dir, '.env'), 'REGION=eu\nTAG=1.36\n')
    const cpuFile = join(dir, 'cpu')
    const cpuTimes = new Map<Record<string, string>, number[]>()
    const time = (env: Record<string, string>) => {
      const times: number[] = []
      const cpu: number[] = []
      for (let i = 0; i < runs; i++) {
        const command = TIME ? [TIME, '-f', '%U %S', '-o', cpuFile, process.execPath] : [process.execPath]
        const start = process.hrtime.bigint()
        const result = spawnSync(command[0], [...command.slice(1), pierBin, 'config', '-q'], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } })
        const ms = Number(process.hrtime.bigint() - start) / 1e6
        if (result.status !== 0) throw new Error(`pier config failed: ${result.stderr}`)
        times.push(ms)
        if (TIME) cpu.push(readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0) * 1000)
      }
      cpuTimes.set(env, cpu)
      return times
    }
    const coldEnv = { PIER_NO_CACHE: '1' }
    const cold = time(coldEnv)
    const cache = join(dir, '.cache')
    time({ PIER_CACHE_DIR: cache, PIER_NO_CACHE: '' }) // fills the cache
    const warmEnv = { PIER_CACHE_DIR: cache, PIER_NO_CACHE: '' }
    const warm = time(warmEnv)
    const baseline: number[] = []
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint()
      spawnSync(process.execPath, ['-e', '0'])
      baseline.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
    const cpuOf = (env: Record<string, string>) => {
      const cpu = cpuTimes.get(env) ?? []
      return cpu.length ? `; CPU median ${median(cpu).toFixed(0)} ms` : ''
    }
    const line = (what: string, t: number[], env: Record<string, string>) =>
      `${what}: median ${median(t).toFixed(0)} ms (min ${Math.min(...t).toFixed(0)}, max ${Math.max(...t).toFixed(0)})${cpuOf(env)}`
    console.log(`pier config -q, ${services} services, ${runs} runs each`)
    console.log(line('  no cache (PIER_NO_CACHE=1)', cold, coldEnv))
    console.log(line('  cache warm (unchanged files)', warm, warmEnv))
    console.log(`  node -e 0 (Node start alone): median ${median(baseline).toFixed(0)} ms`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main()

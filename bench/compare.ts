/**
 * The figures of issue 20, pier on its embedded engine against
 * docker-compose 1.29 on dockerd, on the same projects in one run, runs of
 * the two tools interleaved (so both see the same load), with the ratios:
 * `up -d` of 30 busybox services, `up -d` of a 10-deep depends_on chain, a
 * no-op `up -d` of the 30, `ps` of the 30, `down` of the 30, and `config -q`
 * of 1,000 services on a first run (pier without its load cache). Every
 * figure is a whole process, start included: what a user waits for.
 *
 * The daemon is the tests' own (test/support/dockerd.ts: docker.io installed
 * when missing, a private socket and data root, no iptables rules), stopped
 * at the end; docker-compose is installed from Debian when missing.
 * Usage: node dist/bench/compare.js [runs]   (default 5)
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DockerEngine } from '../src/engine/docker/engine.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { acquireDaemon, loadBusybox, releaseDaemon } from '../test/support/dockerd.js'
import { median, pierBin, timed } from './common.js'
import { generateProject, servicesFile } from './projects.js'

const runs = Number(process.argv[2] ?? 5)
const work = mkdtempSync(join(tmpdir(), 'pier-bench-compare-'))

type Tool = 'pier' | 'compose'

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/docker-compose')) {
    console.log('installing docker-compose …')
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'docker-compose'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  const daemon = await acquireDaemon('docker')
  const up = new Set<string>()
  const env: Record<Tool, NodeJS.ProcessEnv> = {
    pier: { ...process.env, PIER_ROOT: join(work, 'pier-root'), PIER_CACHE_DIR: join(work, 'pier-cache') },
    compose: { ...process.env, DOCKER_HOST: daemon.host, COMPOSE_INTERACTIVE_NO_CLI: '1' },
  }
  const command = (tool: Tool, args: string[]): [string, string[]] => (tool === 'pier' ? [process.execPath, [pierBin, ...args]] : ['docker-compose', args])
  const time = (tool: Tool, args: string[], extraEnv: NodeJS.ProcessEnv = {}, cwd?: string): number => {
    const [cmd, argv] = command(tool, args)
    if (!cwd) return timed(cmd, argv, { ...env[tool], ...extraEnv })
    const start = performance.now()
    const r = spawnSync(cmd, argv, { env: { ...env[tool], ...extraEnv }, cwd, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`)
    return performance.now() - start
  }
  const project = (tool: Tool, file: string, name: string, args: string[]) => {
    const key = `${tool} ${file} ${name}`
    if (args[0] === 'up') up.add(key)
    if (args[0] === 'down') up.delete(key)
    const full = ['-f', file, '-p', name, ...(tool === 'pier' ? ['--progress', 'quiet'] : []), ...args]
    if (tool === 'pier' || args[0] !== 'down') return time(tool, full)
    // docker-compose 1.29 on dockerd 20.10 sometimes fails to remove the network right after its
    // containers ("has active endpoints", docker/compose#10295): the containers are gone, the time
    // of that first attempt is what it took, and a second down (not counted) removes the network.
    const [cmd, argv] = command(tool, full)
    const start = performance.now()
    const r = spawnSync(cmd, argv, { env: env[tool], encoding: 'utf8' })
    const took = performance.now() - start
    if (r.status !== 0 && !/active endpoints/.test(r.stderr)) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`)
    if (r.status !== 0) time(tool, full)
    return took
  }
  try {
    const engine = await DockerEngine.connect(daemon.host)
    await loadBusybox(engine)
    await engine.close()
    const archive = join(work, 'busybox.tar')
    writeFileSync(archive, await dockerArchive([await busyboxImage(['busybox:latest'])]))
    execFileSync(process.execPath, [pierBin, 'image', 'load', '-i', archive], { env: env.pier, stdio: 'ignore' })

    const s30 = servicesFile(work, 's30', 30, false)
    const chain = servicesFile(work, 'chain', 10, true)
    const configDir = join(work, 'config')
    mkdirSync(configDir)
    // The project is named on the command line: docker-compose 1.29 knows no top-level `name:`.
    writeFileSync(join(configDir, 'compose.yaml'), generateProject(1000).replace(/^name: .*\n/, ''))
    writeFileSync(join(configDir, '.env'), 'REGION=eu\nTAG=1.36\n')

    const figures = [
      { what: 's30 up -d (cold)', aim: 0.55 },
      { what: '10-deep depends_on chain up -d', aim: 0.4 },
      { what: 's30 no-op up -d', aim: 0.12 },
      { what: 's30 down', aim: 0.4 },
      { what: 'ps of 30', aim: 0.12 },
      { what: 'config -q, 1,000 services, first run', aim: 0.35 },
    ]
    const times = new Map(figures.map((f) => [f.what, { pier: [] as number[], compose: [] as number[] }]))
    const add = (what: string, tool: Tool, ms: number) => times.get(what)![tool].push(ms)
    for (let r = 0; r < runs; r++) {
      for (const tool of ['pier', 'compose'] as const) {
        const name = `cmp${r}${tool}`
        add('s30 up -d (cold)', tool, project(tool, s30, name, ['up', '-d']))
        add('s30 no-op up -d', tool, project(tool, s30, name, ['up', '-d']))
        add('ps of 30', tool, project(tool, s30, name, ['ps']))
        add('s30 down', tool, project(tool, s30, name, ['down']))
        add('10-deep depends_on chain up -d', tool, project(tool, chain, `${name}c`, ['up', '-d']))
        project(tool, chain, `${name}c`, ['down'])
        add('config -q, 1,000 services, first run', tool, time(tool, ['-p', 'bench', 'config', '-q'], { PIER_NO_CACHE: '1' }, configDir))
      }
    }

    console.log(`pier (embedded engine) against docker-compose 1.29 on dockerd, ${runs} runs each, interleaved, medians; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
    console.log(`${'figure'.padEnd(40)} ${'pier'.padStart(8)} ${'compose'.padStart(9)} ${'ratio'.padStart(6)} ${'aim'.padStart(7)}`)
    for (const f of figures) {
      const t = times.get(f.what)!
      const p = median(t.pier) / 1000
      const c = median(t.compose) / 1000
      console.log(`${f.what.padEnd(40)} ${p.toFixed(2).padStart(6)} s ${c.toFixed(2).padStart(7)} s ${(p / c).toFixed(2).padStart(6)} ${`≤ ${f.aim.toFixed(2)} s`.padStart(9)}${p <= f.aim ? '  met' : ''}`)
    }
  } finally {
    for (const key of up) {
      const [tool, file, name] = key.split(' ') as [Tool, string, string]
      const [cmd, argv] = command(tool, ['-f', file, '-p', name, 'down'])
      spawnSync(cmd, argv, { env: env[tool], stdio: 'ignore' })
    }
    await releaseDaemon()
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

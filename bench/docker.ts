/**
 * pier on dockerd (--engine docker) against docker-compose 1.29 on the same
 * dockerd, side by side in one run: `up -d` of 30 independent busybox
 * services, a no-op `up -d` (everything already up), and `down`. Medians of
 * several runs, and the ratios. The daemon is the tests' own
 * (test/support/dockerd.ts: docker.io installed when missing, private socket
 * and data root, no iptables rules), stopped at the end; docker-compose is
 * installed from Debian when missing.
 * Usage: node dist/bench/docker.js [runs]   (default 3)
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DockerEngine } from '../src/engine/docker/engine.js'
import { acquireDaemon, loadBusybox, releaseDaemon } from '../test/support/dockerd.js'
import { median, pierBin, timed } from './common.js'

const runs = Number(process.argv[2] ?? 3)
const work = mkdtempSync(join(tmpdir(), 'pier-bench-docker-'))

/** A service that stops at once on SIGTERM, so down measures the tools, not grace periods. */
const SERVICE = `image: busybox\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]`

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/docker-compose')) {
    console.log('installing docker-compose …')
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'docker-compose'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  const daemon = await acquireDaemon('docker')
  try {
    const engine = await DockerEngine.connect(daemon.host)
    await loadBusybox(engine)
    await engine.close()
    const env = { ...process.env, DOCKER_HOST: daemon.host, COMPOSE_INTERACTIVE_NO_CLI: '1', PIER_CACHE_DIR: join(work, 'pier-cache') }
    const file = join(work, 's30.yaml')
    writeFileSync(file, `services:\n${Array.from({ length: 30 }, (_, i) => `  s${i}:\n    ${SERVICE}\n`).join('')}`)
    const tools = {
      pier: (name: string, args: string[]) => timed(process.execPath, [pierBin, '--engine', 'docker', '-f', file, '-p', name, '--progress', 'quiet', ...args], env),
      compose: (name: string, args: string[]) => timed('docker-compose', ['-f', file, '-p', name, ...args], env),
    }
    const rows = ['up -d, 30 services', 'no-op up -d, 30 services', 'down, 30 services'].map((what) => ({ what, pier: [] as number[], compose: [] as number[] }))
    for (let r = 0; r < runs; r++) {
      for (const tool of ['pier', 'compose'] as const) {
        const name = `benchd${r}${tool}`
        rows[0][tool].push(tools[tool](name, ['up', '-d']))
        rows[1][tool].push(tools[tool](name, ['up', '-d']))
        rows[2][tool].push(tools[tool](name, ['down']))
      }
    }
    for (const row of rows) {
      const [p, c] = [median(row.pier), median(row.compose)]
      console.log(`${row.what.padEnd(28)} pier ${p.toFixed(0).padStart(6)} ms   docker-compose ${c.toFixed(0).padStart(6)} ms   pier/compose ${(p / c).toFixed(2)}`)
    }
  } finally {
    await releaseDaemon('docker')
    rmSync(work, { recursive: true, force: true })
  }
}

console.log(`pier --engine docker against docker-compose 1.29, both on one dockerd, ${runs} runs each, medians; busybox services`)
main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

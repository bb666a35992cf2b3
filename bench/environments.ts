/**
 * Test environments from code (issue 16), timed as a CI test file sees
 * them: `await up()` to ready for a 3-service environment (web, a db-like
 * service with a healthcheck, a cache), ten environments of the same file
 * brought up at once in one process, and the reaper's time to clean up
 * after a SIGKILL of the test process. Medians of several runs.
 * Usage: node dist/bench/environments.js [runs]   (default 5)
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { EmbeddedEngine } from '../src/engine/embedded/engine.js'
import { up, wait } from '../src/index.js'
import { busyboxImage, dockerArchive } from '../test/support/images.js'
import { median } from './common.js'

const runs = Number(process.argv[2] ?? 5)
const work = mkdtempSync(join(tmpdir(), 'pier-bench-env-'))
const root = join(work, 'root')
const engine = new EmbeddedEngine({ root })

const content = `x-s: &s {image: busybox, init: true}
services:
  web: {<<: *s, command: [sh, -c, "mkdir -p /w; echo ok > /w/index.html; exec httpd -f -p 80 -h /w"], ports: ["127.0.0.1::80"], depends_on: {db: {condition: service_healthy}}}
  db: {<<: *s, command: [sh, -c, "touch /tmp/up; exec sleep 600"], healthcheck: {test: [CMD, test, -f, /tmp/up], interval: 1s, start_interval: 50ms, start_period: 10s}}
  cache: {<<: *s, command: [sh, -c, "exec nc -ll -p 6379 -e cat"]}
`
const options = { engine, cwd: work, content, wait: true, waitFor: { web: wait.forHttp('/', { port: 80 }), cache: wait.forPort(6379) } }

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now()
  const value = await fn()
  return [performance.now() - start, value]
}

async function main(): Promise<void> {
  await engine.loadImages(Readable.from(await dockerArchive([await busyboxImage(['busybox:latest'])])))
  const single: number[] = []
  const downs: number[] = []
  for (let i = 0; i < runs; i++) {
    const [ms, env] = await timed(() => up(options))
    single.push(ms)
    downs.push((await timed(() => env.down({ volumes: true })))[0])
  }
  const parallel: number[] = []
  for (let i = 0; i < Math.max(1, Math.floor(runs / 2)); i++) {
    const [ms, envs] = await timed(() => Promise.all(Array.from({ length: 10 }, () => up(options))))
    parallel.push(ms)
    await Promise.all(envs.map((e) => e.down({ volumes: true })))
  }
  const reaped: number[] = []
  for (let i = 0; i < runs; i++) reaped.push(await reaperTime())
  console.log(`3-service environment, await up() to ready: median ${Math.round(median(single))} ms (runs: ${single.map(Math.round).join(', ')})`)
  console.log(`its down({volumes: true}): median ${Math.round(median(downs))} ms`)
  console.log(`ten environments at once in one process: median ${Math.round(median(parallel))} ms (runs: ${parallel.map(Math.round).join(', ')})`)
  console.log(`reaper, SIGKILL of the test process to nothing left: median ${Math.round(median(reaped))} ms (runs: ${reaped.map(Math.round).join(', ')})`)
}

/** A test process brings an environment up and is SIGKILLed: how long until its containers and network are gone. */
async function reaperTime(): Promise<number> {
  const script = join(work, 'killed.mjs')
  writeFileSync(script, `import { up } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).pathname)}\nconst env = await up({ root: ${JSON.stringify(root)}, cwd: ${JSON.stringify(work)}, content: ${JSON.stringify(content)} })\nconsole.log(env.name)\nsetInterval(() => {}, 1000)\n`)
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const project = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())))
  const start = performance.now()
  child.kill('SIGKILL')
  for (;;) {
    const left = [...(await engine.listContainers({ 'com.docker.compose.project': project }, { all: true })), ...(await engine.listNetworks({ 'com.docker.compose.project': project }))]
    if (left.length === 0) return performance.now() - start
    await new Promise((r) => setTimeout(r, 20))
  }
}

main()
  .finally(async () => {
    for (const c of await engine.listContainers({}, { all: true })) await engine.remove(c.id, { force: true, volumes: true })
    for (const n of await engine.listNetworks({})) await engine.removeNetwork(n.name)
    await engine.close()
    rmSync(work, { recursive: true, force: true })
  })
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })

import { displayName } from '../../compose/attach.js'
import * as verbs from '../../compose/containers.js'
import { exec as execVerb } from '../../compose/exec.js'
import { logs as logsVerb } from '../../compose/logs.js'
import type { Container, Engine } from '../../engine/engine.js'
import { UsageError } from '../../errors.js'
import { LABEL } from '../../labels.js'
import type { Project } from '../../spec/project.js'
import { parseDuration } from '../../spec/units.js'
import { printLogs } from '../attach.js'
import { colorOutput, contextFor, engineFor, loadFor, millis, type GlobalFlags } from '../global.js'
import { join } from 'node:path'
import { packageRoot } from '../../paths.js'
import { table } from '../table.js'
import * as swarm from '../swarm-run.js'

/**
 * The commands that act on a project's existing containers: flags → the
 * orchestration layer's verbs (src/compose/containers.ts), their results
 * printed as Compose prints them.
 */
interface Scope {
  project: Project
  engine: Engine
  containers: Container[]
}

async function scope(flags: GlobalFlags, services: string[], options: { all?: boolean } = {}): Promise<Scope> {
  const project = await loadFor(flags, services, { quiet: true })
  const ctx = await contextFor(flags)
  return { project, engine: ctx.engine, containers: await verbs.containersOf(ctx, project, services, options) }
}

/** Loads the project and opens the engine with the CLI's reporter. */
async function setup(flags: GlobalFlags, services: string[]) {
  const project = await loadFor(flags, services, { quiet: true })
  return { project, ctx: await contextFor(flags) }
}

export async function start(flags: GlobalFlags, services: string[]): Promise<void> {
  const { project, ctx } = await setup(flags, services)
  await verbs.start(ctx, project, services)
}

export async function stop(flags: GlobalFlags, services: string[], opts: { timeout?: string }): Promise<void> {
  const timeoutMs = millis(opts.timeout, '--timeout')
  const { project, ctx } = await setup(flags, services)
  await verbs.stop(ctx, project, services, timeoutMs !== undefined ? { timeoutMs } : {})
}

export async function restart(flags: GlobalFlags, services: string[], opts: { timeout?: string }): Promise<void> {
  const timeoutMs = millis(opts.timeout, '--timeout')
  const { project, ctx } = await setup(flags, services)
  await verbs.restart(ctx, project, services, timeoutMs !== undefined ? { timeoutMs } : {})
}

export async function kill(flags: GlobalFlags, services: string[], opts: { signal: string }): Promise<void> {
  const { project, ctx } = await setup(flags, services)
  await verbs.kill(ctx, project, services, { signal: opts.signal })
}

export async function rm(flags: GlobalFlags, services: string[], opts: { force?: boolean; stop?: boolean; volumes?: boolean }): Promise<void> {
  const { project, ctx } = await setup(flags, services)
  const candidates = (await verbs.containersOf(ctx, project, services)).filter((c) => opts.stop || !verbs.isRunning(c))
  if (candidates.length === 0) {
    if (flags.progress !== 'quiet') process.stderr.write('No stopped containers\n')
    return
  }
  await verbs.rm(ctx, project, services, {
    ...opts,
    // Compose asks before removing; without a terminal to ask on, -f is the answer.
    confirm: async (names) => {
      if (!process.stdin.isTTY) throw new UsageError(`rm would remove ${names.join(', ')}: add -f to confirm`)
      process.stderr.write(`Going to remove ${names.join(', ')}\n? Are you sure? [yN] `)
      const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())))
      process.stdin.pause()
      return /^y(es)?$/i.test(answer)
    },
  })
}

export async function pause(flags: GlobalFlags, services: string[], paused: boolean): Promise<void> {
  const { project, ctx } = await setup(flags, services)
  await (paused ? verbs.pause : verbs.unpause)(ctx, project, services)
}

/** `pier wait`: blocks until the containers stop; exits with the first one's code. */
export async function wait(flags: GlobalFlags, services: string[]): Promise<void> {
  const { project, ctx } = await setup(flags, services)
  const results = await verbs.wait(ctx, project, services)
  for (const { container, exitCode } of results) process.stdout.write(`${container.name} exited with code ${exitCode}\n`)
  process.exitCode = results[0].exitCode
}

export async function top(flags: GlobalFlags, services: string[]): Promise<void> {
  const { project, ctx } = await setup(flags, services)
  for (const { container, processes } of await verbs.top(ctx, project, services)) process.stdout.write(`${container.name}\n${table([processes.titles, ...processes.processes])}\n`)
}

/** `pier logs`: lines of every container merged in time order, prefixed; -f follows. */
export async function logs(flags: GlobalFlags, services: string[], opts: { follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string; color: boolean; logPrefix: boolean; index?: string }): Promise<void> {
  if (swarm.onSwarm(flags)) return swarm.logs(flags, services, opts)
  const tail = opts.tail === undefined || opts.tail === 'all' ? undefined : Number(opts.tail)
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new UsageError(`invalid --tail "${opts.tail}": give a number of lines or "all"`)
  if (opts.index !== undefined && !/^[1-9]\d*$/.test(opts.index)) throw new UsageError(`invalid --index "${opts.index}": give a replica number from 1`)
  const since = opts.since ? when(opts.since, '--since') : undefined
  const until = opts.until ? when(opts.until, '--until') : undefined
  const { project, ctx } = await setup(flags, services)
  // As Compose: with no service named, a service with `attach: false` is left out.
  if (!services.length) services = Object.keys(project.services).filter((s) => project.services[s].attach !== false)
  const printer = printLogs({ color: opts.color && colorOutput(flags), prefix: opts.logPrefix, timestamps: !!opts.timestamps })
  // Names are aligned and coloured over every container listed, before the first line.
  printer.layout((await verbs.containersOf(ctx, project, services)).map((c) => displayName(c.name, c.labels)))
  await logsVerb(ctx, project, services, { ...(tail !== undefined ? { tail } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}), ...(opts.follow ? { follow: true } : {}), ...(opts.index ? { index: Number(opts.index) } : {}) }, printer.line)
}

/** A time for --since/--until: RFC 3339, or a duration back from now (10m, 1h30m). */
function when(text: string, flag: string): string {
  const ms = parseDuration(text)
  if (ms !== undefined) return new Date(Date.now() - ms).toISOString()
  const date = new Date(text)
  if (Number.isNaN(date.getTime())) throw new UsageError(`invalid ${flag} "${text}": give a time (2026-01-02T15:04:05Z) or a duration (10m)`)
  return date.toISOString()
}


/** `pier exec SERVICE COMMAND...`: the command's exit code is pier's. */
export async function exec(
  flags: GlobalFlags,
  service: string,
  command: string[],
  opts: { detach?: boolean; env?: string[]; user?: string; workdir?: string; tty: boolean; index: string; privileged?: boolean },
): Promise<void> {
  const { project, ctx } = await setup(flags, [service])
  // -e NAME takes NAME from pier's environment; unset there, it stays unset in the container.
  const env = Object.fromEntries(
    (opts.env ?? []).flatMap((e) => {
      const cut = e.indexOf('=')
      if (cut >= 0) return [[e.slice(0, cut), e.slice(cut + 1)]]
      return process.env[e] !== undefined ? [[e, process.env[e]!]] : []
    }),
  )
  const base = { index: Number(opts.index), env, ...(opts.user ? { user: opts.user } : {}), ...(opts.workdir ? { workingDir: opts.workdir } : {}), ...(opts.privileged ? { privileged: true } : {}) }
  if (opts.detach) return void (await execVerb(ctx, project, service, command, { ...base, detach: true }))
  // A terminal when pier has one (as docker compose exec), unless -T.
  const tty = opts.tty && !!process.stdin.isTTY
  const { exitCode } = await execVerb(ctx, project, service, command, { ...base, tty, stdio: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr } })
  // Done with our stdin (it would keep pier waiting on a terminal).
  process.stdin.destroy()
  process.exitCode = exitCode
}

/** `pier ls`: every project with containers on the engine, its status and config files. */
export async function ls(flags: GlobalFlags, opts: { all?: boolean; quiet?: boolean; format: string }): Promise<void> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new UsageError(`unknown format "${opts.format}": use table or json`)
  const engine = await engineFor(flags)
  const all = await engine.listContainers({}, { all: true })
  const projects = new Map<string, Container[]>()
  for (const c of all) {
    const name = c.labels[LABEL.project]
    if (name) projects.set(name, [...(projects.get(name) ?? []), c])
  }
  const rows = [...projects.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, containers]) => {
      const counts = new Map<string, number>()
      for (const c of containers) counts.set(c.state, (counts.get(c.state) ?? 0) + 1)
      return {
        Name: name,
        Status: [...counts.entries()].map(([state, n]) => `${state}(${n})`).join(', '),
        ConfigFiles: containers[0].labels[LABEL.configFiles] ?? '',
        running: counts.has('running'),
      }
    })
    .filter((r) => opts.all || r.running)
    .map(({ running: _r, ...r }) => r)
  if (opts.quiet) return void process.stdout.write(rows.map((r) => `${r.Name}\n`).join(''))
  if (opts.format === 'json') return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
  process.stdout.write(table([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map((r) => [r.Name, r.Status, r.ConfigFiles])]))
}

/** `pier version`: pier's version, Node's, and the engine's. */
export async function version(flags: GlobalFlags, opts: { format: string; short?: boolean }): Promise<void> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new UsageError(`unknown format "${opts.format}": use table or json`)
  const { readFileSync } = await import('node:fs')
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  if (opts.short) return void process.stdout.write(`${pkg.version}\n`)
  const engine = await engineFor(flags)
  const info = await engine.info()
  const data = { version: pkg.version, node: process.versions.node, engine: info }
  if (opts.format === 'json') return void process.stdout.write(`${JSON.stringify(data, null, 2)}\n`)
  process.stdout.write(`pier version ${pkg.version}\nnode ${data.node}\nengine ${info.name} ${info.version} (${info.os}/${info.architecture}, root ${info.root})\n`)
}

/** `pier events`: the project's container events as they happen, until interrupted; --json one object per line. */
export async function events(flags: GlobalFlags, services: string[], opts: { json?: boolean; format: string }): Promise<void> {
  if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError(`unknown format "${opts.format}": use text or json`)
  const json = opts.json || opts.format === 'json'
  const { project, engine } = await scope(flags, services)
  for await (const e of engine.events({ [LABEL.project]: project.name })) {
    const service = e.labels[LABEL.service]
    if (services.length && !services.includes(service)) continue
    if (json) {
      const attributes = Object.fromEntries(Object.entries(e.labels).filter(([k]) => !k.startsWith('com.docker.compose.')))
      process.stdout.write(`${JSON.stringify({ time: e.time, type: e.type, action: e.action, id: e.id, service, attributes })}\n`)
    } else {
      process.stdout.write(`${e.time} ${e.type} ${e.action} ${e.id} (image=${e.labels.image}, name=${e.labels.name})\n`)
    }
  }
}

/**
 * `pier cp SERVICE:SRC DEST` and `pier cp SRC SERVICE:DEST` (either side `-`
 * for a tar stream on stdin/stdout), as `docker compose cp`: into an existing
 * directory the source keeps its name, else it takes the destination's.
 * Into a service it copies into every replica (`--index N`: that one only);
 * out of a service it reads replica 1 (`--index N`: that one). One-offs only
 * with `--all`, as in Compose.
 */
export async function cp(flags: GlobalFlags, source: string, dest: string, opts: { index?: string; all?: boolean }): Promise<void> {
  const side = (arg: string) => /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg)
  const from = side(source)
  const to = side(dest)
  if (!!from === !!to) throw new UsageError('cp copies between a service and this machine: one of SOURCE and DEST must be SERVICE:PATH')
  const [, service, path] = (from ?? to)!
  if (!path) throw new UsageError(`give a path after "${service}:"`)
  if (opts.index !== undefined && !/^[1-9]\d*$/.test(opts.index)) throw new UsageError(`invalid --index "${opts.index}": give a replica number from 1`)
  const { project, engine, containers } = await scope(flags, [service])
  const replicas = containers.filter((c) => opts.all || c.labels[LABEL.oneoff] !== 'True').sort((a, b) => Number(a.labels[LABEL.number]) - Number(b.labels[LABEL.number]))
  const chosen = opts.index !== undefined ? replicas.filter((c) => c.labels[LABEL.oneoff] !== 'True' && c.labels[LABEL.number] === opts.index) : from ? replicas.slice(0, 1) : replicas
  if (chosen.length === 0) throw new UsageError(`no container found for service "${service}"${opts.index !== undefined ? ` with index ${opts.index}` : ''} in project ${project.name}: create it with "pier up -d ${service}"`)
  const { packHostPath, unpackInto } = await import('../../engine/tar.js')
  const { existsSync, statSync } = await import('node:fs')
  const { mkdtemp, rename, rm } = await import('node:fs/promises')
  const { basename, dirname, resolve } = await import('node:path')
  if (from) {
    const archive = await engine.copyFrom(chosen[0].id, path)
    if (dest === '-') return void (await new Promise((done, fail) => archive.pipe(process.stdout).on('finish', done).on('error', fail)))
    const host = resolve(dest)
    if (existsSync(host) && statSync(host).isDirectory()) return unpackInto(host, archive as never)
    if (!existsSync(dirname(host))) throw new UsageError(`the directory ${dirname(host)} does not exist`)
    const staging = await mkdtemp(`${dirname(host)}/.pier-cp-`)
    try {
      await unpackInto(staging, archive as never)
      await rename(`${staging}/${basename(path.replace(/\/+$/, '')) || '.'}`, host)
    } finally {
      await rm(staging, { recursive: true, force: true })
    }
    return
  }
  if (source === '-') {
    // One stream on stdin, several replicas: read once, given to each.
    const { Readable } = await import('node:stream')
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    for (const c of chosen) await engine.copyTo(c.id, path, Readable.from([Buffer.concat(chunks)]))
    return
  }
  const host = resolve(source)
  if (!existsSync(host)) throw new UsageError(`no such file or directory: ${source}`)
  for (const c of chosen) await copyInto(engine, c, host, path, packHostPath)
}

/** One host path into one container: into a directory there it keeps its name, else it takes `path`'s. */
async function copyInto(engine: Engine, c: Container, host: string, path: string, packHostPath: (host: string, name?: string) => Promise<NodeJS.ReadableStream>): Promise<void> {
  const { firstEntryType } = await import('../../engine/tar.js')
  const { basename, dirname } = await import('node:path')
  const probe = await engine.copyFrom(c.id, path).catch(() => undefined)
  const isDir = probe ? (await firstEntryType(probe as never)) === 'directory' : false
  if (isDir) return engine.copyTo(c.id, path, await packHostPath(host))
  await engine.copyTo(c.id, dirname(path) || '/', await packHostPath(host, basename(path)))
}

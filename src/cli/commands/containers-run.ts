import type { Container, Engine, LogLine } from '../../engine/engine.js'
import { openEngine } from '../../engine/index.js'
import { PlanError } from '../../planner/errors.js'
import { LABEL } from '../../planner/labels.js'
import { loadProject } from '../../spec/load.js'
import type { Project } from '../../spec/project.js'
import { parseDuration } from '../../spec/units.js'
import { attachLogs, paint } from '../attach.js'
import { colorOutput, loadOptions, requireServices, seconds, type GlobalFlags } from '../global.js'
import { join } from 'node:path'
import { packageRoot } from '../../paths.js'
import { table } from '../table.js'

/**
 * The commands that act on a project's existing containers: logs, start,
 * stop, restart, kill, rm, pause, unpause, wait, top, exec. Each resolves the
 * services named on the command line (an unknown one is an error listing the
 * valid ones), finds their containers through the engine's labels, and calls
 * the engine.
 */
interface Scope {
  project: Project
  engine: Engine
  containers: Container[]
}

async function scope(flags: GlobalFlags, services: string[], options: { all?: boolean } = {}): Promise<Scope> {
  const project = await loadProject({ ...loadOptions(flags, services), onWarning: () => {} })
  requireServices(project, services)
  const engine = await openEngine(flags.engine)
  const containers = ((await engine.listContainers?.({ [LABEL.project]: project.name }, { all: options.all ?? true })) ?? [])
    .filter((c) => c.labels[LABEL.oneoff] !== 'True' || services.length > 0)
    .filter((c) => services.length === 0 || services.includes(c.labels[LABEL.service]))
    .sort((a, b) => a.name.localeCompare(b.name))
  return { project, engine, containers }
}

function none(project: Project, services: string[], what: string): PlanError {
  return new PlanError('invalid', `no ${what} container${services.length ? ` for ${services.join(', ')}` : ''} in project ${project.name}${what === 'running' ? ': start it with "pier up -d"' : ''}`)
}

const running = (c: Container) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused'

/** Runs `fn` on each container at once; every failure is reported, the first fails the command. */
async function each(containers: Container[], verb: string, fn: (c: Container) => Promise<unknown>, progress: GlobalFlags['progress']): Promise<void> {
  const results = await Promise.allSettled(
    containers.map(async (c) => {
      await fn(c)
      if (progress !== 'quiet') process.stderr.write(`Container ${c.name.padEnd(30)} ${verb}\n`)
    }),
  )
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

function stopMs(timeout: string | undefined): number | undefined {
  return timeout === undefined ? undefined : seconds(timeout, '--timeout') * 1000
}

export async function start(flags: GlobalFlags, services: string[]): Promise<void> {
  const { project, engine, containers } = await scope(flags, services)
  const stopped = containers.filter((c) => !running(c))
  if (containers.length === 0) throw none(project, services, 'created')
  await each(stopped, 'Started', (c) => engine.start!(c.id), flags.progress)
}

export async function stop(flags: GlobalFlags, services: string[], opts: { timeout?: string }): Promise<void> {
  const timeoutMs = stopMs(opts.timeout)
  const { engine, containers } = await scope(flags, services)
  await each(containers.filter(running), 'Stopped', (c) => engine.stop!(c.id, timeoutMs !== undefined ? { timeoutMs } : {}), flags.progress)
}

export async function restart(flags: GlobalFlags, services: string[], opts: { timeout?: string }): Promise<void> {
  const timeoutMs = stopMs(opts.timeout)
  const { project, engine, containers } = await scope(flags, services)
  if (containers.length === 0) throw none(project, services, 'created')
  await each(
    containers,
    'Restarted',
    async (c) => {
      if (running(c)) await engine.stop!(c.id, timeoutMs !== undefined ? { timeoutMs } : {})
      await engine.start!(c.id)
    },
    flags.progress,
  )
}

export async function kill(flags: GlobalFlags, services: string[], opts: { signal: string }): Promise<void> {
  const { project, engine, containers } = await scope(flags, services)
  const targets = containers.filter(running)
  if (targets.length === 0) throw none(project, services, 'running')
  await each(targets, 'Killed', (c) => engine.kill!(c.id, opts.signal), flags.progress)
}

export async function rm(flags: GlobalFlags, services: string[], opts: { force?: boolean; stop?: boolean; volumes?: boolean }): Promise<void> {
  const { engine, containers } = await scope(flags, services)
  if (opts.stop) await each(containers.filter(running), 'Stopped', (c) => engine.stop!(c.id), flags.progress)
  const targets = opts.stop ? containers : containers.filter((c) => !running(c))
  if (targets.length === 0) {
    if (flags.progress !== 'quiet') process.stderr.write('No stopped containers\n')
    return
  }
  // Compose asks before removing; without a terminal to ask on, -f is the answer.
  if (!opts.force && !process.stdin.isTTY) throw new PlanError('invalid', `rm would remove ${targets.map((c) => c.name).join(', ')}: add -f to confirm`)
  if (!opts.force) {
    process.stderr.write(`Going to remove ${targets.map((c) => c.name).join(', ')}\n? Are you sure? [yN] `)
    const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())))
    process.stdin.pause()
    if (!/^y(es)?$/i.test(answer)) return
  }
  await each(targets, 'Removed', (c) => engine.remove!(c.id, { force: true, volumes: !!opts.volumes }), flags.progress)
}

export async function pause(flags: GlobalFlags, services: string[], paused: boolean): Promise<void> {
  const { project, engine, containers } = await scope(flags, services)
  const targets = containers.filter((c) => (paused ? c.state === 'running' : c.state === 'paused'))
  if (targets.length === 0) throw none(project, services, paused ? 'running' : 'paused')
  await each(targets, paused ? 'Paused' : 'Unpaused', (c) => (paused ? engine.pause!(c.id) : engine.unpause!(c.id)), flags.progress)
}

/** `pier wait`: blocks until the containers stop; exits with the first one's code. */
export async function wait(flags: GlobalFlags, services: string[]): Promise<void> {
  const { project, engine, containers } = await scope(flags, services)
  if (containers.length === 0) throw none(project, services, 'created')
  const codes = await Promise.all(containers.map((c) => engine.wait!(c.id)))
  for (const [i, c] of containers.entries()) process.stdout.write(`${c.name} exited with code ${codes[i]}\n`)
  process.exitCode = codes[0]
}

export async function top(flags: GlobalFlags, services: string[]): Promise<void> {
  const { project, engine, containers } = await scope(flags, services)
  const targets = containers.filter(running)
  if (targets.length === 0) throw none(project, services, 'running')
  for (const c of targets) {
    const list = await engine.top!(c.id)
    process.stdout.write(`${c.name}\n${table([list.titles, ...list.processes])}\n`)
  }
}

/** `pier logs`: lines of every container merged in time order, prefixed; -f follows. */
export async function logs(flags: GlobalFlags, services: string[], opts: { follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string; color: boolean; logPrefix: boolean }): Promise<void> {
  const tail = opts.tail === undefined || opts.tail === 'all' ? undefined : Number(opts.tail)
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new PlanError('invalid', `invalid --tail "${opts.tail}": give a number of lines or "all"`)
  const since = opts.since ? when(opts.since, '--since') : undefined
  const until = opts.until ? when(opts.until, '--until') : undefined
  const { engine, containers } = await scope(flags, services)
  const color = opts.color && colorOutput(flags)
  const width = Math.max(0, ...containers.map((c) => c.name.length))
  const prefix = (c: Container, i: number) => (opts.logPrefix ? `${paint(`${c.name.padEnd(width)} |`, i, color)} ` : '')
  const merged: { line: LogLine; label: string }[] = []
  for (const [i, c] of containers.entries()) {
    for await (const line of engine.logs!(c.id, { ...(tail !== undefined ? { tail } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) })) merged.push({ line, label: prefix(c, i) })
  }
  merged.sort((a, b) => (a.line.time < b.line.time ? -1 : a.line.time > b.line.time ? 1 : 0))
  for (const { line, label } of merged) process.stdout.write(`${label}${opts.timestamps ? `${line.time} ` : ''}${line.text}\n`)
  if (!opts.follow) return
  const from = new Date().toISOString()
  // Followed lines keep the colour each container had above.
  await attachLogs(engine, containers.filter(running), { since: from, color, prefix: opts.logPrefix, timestamps: !!opts.timestamps, exitMessages: false, colorOf: (c) => containers.indexOf(c), prefixWidth: width })
}

/** A time for --since/--until: RFC 3339, or a duration back from now (10m, 1h30m). */
function when(text: string, flag: string): string {
  const ms = parseDuration(text)
  if (ms !== undefined) return new Date(Date.now() - ms).toISOString()
  const date = new Date(text)
  if (Number.isNaN(date.getTime())) throw new PlanError('invalid', `invalid ${flag} "${text}": give a time (2026-01-02T15:04:05Z) or a duration (10m)`)
  return date.toISOString()
}


/** `pier exec SERVICE COMMAND...`: the command's exit code is pier's. */
export async function exec(
  flags: GlobalFlags,
  service: string,
  command: string[],
  opts: { detach?: boolean; env?: string[]; user?: string; workdir?: string; tty: boolean; index: string; privileged?: boolean },
): Promise<void> {
  const { project, engine, containers } = await scope(flags, [service], { all: false })
  const index = Number(opts.index)
  const target = containers.find((c) => c.labels[LABEL.number] === String(index))
  if (!target) throw new PlanError('invalid', `service "${service}" is not running${index > 1 ? ` with index ${index}` : ''} in project ${project.name}: start it with "pier up -d ${service}"`)
  const env = Object.fromEntries((opts.env ?? []).map((e) => {
    const cut = e.indexOf('=')
    return cut < 0 ? [e, process.env[e] ?? ''] : [e.slice(0, cut), e.slice(cut + 1)]
  }))
  const base = { argv: command, env, ...(opts.user ? { user: opts.user } : {}), ...(opts.workdir ? { workingDir: opts.workdir } : {}), ...(opts.privileged ? { privileged: true } : {}) }
  if (opts.detach) {
    await engine.exec!(target.id, { ...base, detach: true })
    return
  }
  // A terminal when pier has one (as docker compose exec), unless -T.
  const tty = opts.tty && !!process.stdin.isTTY
  const { exitCode } = await engine.exec!(target.id, { ...base, tty, stdio: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr } })
  // Done with our stdin (it would keep pier waiting on a terminal).
  process.stdin.destroy()
  process.exitCode = exitCode
}


/** `pier ls`: every project with containers on the engine, its status and config files. */
export async function ls(flags: GlobalFlags, opts: { all?: boolean; quiet?: boolean; format: string }): Promise<void> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new PlanError('invalid', `unknown format "${opts.format}": use table or json`)
  const engine = await openEngine(flags.engine)
  const all = (await engine.listContainers?.({}, { all: true })) ?? []
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
  if (opts.format !== 'table' && opts.format !== 'json') throw new PlanError('invalid', `unknown format "${opts.format}": use table or json`)
  const { readFileSync } = await import('node:fs')
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
  if (opts.short) return void process.stdout.write(`${pkg.version}\n`)
  const engine = await openEngine(flags.engine)
  const info = await engine.info()
  const data = { version: pkg.version, node: process.versions.node, engine: info }
  if (opts.format === 'json') return void process.stdout.write(`${JSON.stringify(data, null, 2)}\n`)
  process.stdout.write(`pier version ${pkg.version}\nnode ${data.node}\nengine ${info.name} (${info.os}/${info.architecture}, kernel ${info.version}, root ${info.root})\n`)
}

/** `pier events`: the project's container events as they happen, until interrupted; --json one object per line. */
export async function events(flags: GlobalFlags, services: string[], opts: { json?: boolean; format: string }): Promise<void> {
  if (opts.format !== 'text' && opts.format !== 'json') throw new PlanError('invalid', `unknown format "${opts.format}": use text or json`)
  const json = opts.json || opts.format === 'json'
  const { project, engine } = await scope(flags, services)
  if (!engine.events) throw new PlanError('invalid', 'this engine reports no events')
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
 */
export async function cp(flags: GlobalFlags, source: string, dest: string, opts: { index: string }): Promise<void> {
  const side = (arg: string) => /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg)
  const from = side(source)
  const to = side(dest)
  if (!!from === !!to) throw new PlanError('invalid', 'cp copies between a service and this machine: one of SOURCE and DEST must be SERVICE:PATH')
  const [, service, path] = (from ?? to)!
  if (!path) throw new PlanError('invalid', `give a path after "${service}:"`)
  const { project, engine, containers } = await scope(flags, [service])
  const target = containers.find((c) => c.labels[LABEL.number] === opts.index)
  if (!target) throw new PlanError('invalid', `service "${service}" has no container${opts.index !== '1' ? ` with index ${opts.index}` : ''} in project ${project.name}: create it with "pier up -d ${service}"`)
  const { firstEntryType, packHostPath, unpackInto } = await import('../../engine/tar.js')
  const { existsSync, statSync } = await import('node:fs')
  const { mkdtemp, rename, rm } = await import('node:fs/promises')
  const { basename, dirname, resolve } = await import('node:path')
  if (from) {
    const archive = await engine.copyFrom!(target.id, path)
    if (dest === '-') return void (await new Promise((done, fail) => archive.pipe(process.stdout).on('finish', done).on('error', fail)))
    const host = resolve(dest)
    if (existsSync(host) && statSync(host).isDirectory()) return unpackInto(host, archive as never)
    if (!existsSync(dirname(host))) throw new PlanError('invalid', `the directory ${dirname(host)} does not exist`)
    const staging = await mkdtemp(`${dirname(host)}/.pier-cp-`)
    try {
      await unpackInto(staging, archive as never)
      await rename(`${staging}/${basename(path.replace(/\/+$/, '')) || '.'}`, host)
    } finally {
      await rm(staging, { recursive: true, force: true })
    }
    return
  }
  if (source === '-') return engine.copyTo!(target.id, path, process.stdin)
  const host = resolve(source)
  if (!existsSync(host)) throw new PlanError('invalid', `no such file or directory: ${source}`)
  const probe = await engine.copyFrom!(target.id, path).catch(() => undefined)
  const isDir = probe ? (await firstEntryType(probe as never)) === 'directory' : false
  if (isDir) return engine.copyTo!(target.id, path, await packHostPath(host))
  await engine.copyTo!(target.id, dirname(path) || '/', await packHostPath(host, basename(path)))
}

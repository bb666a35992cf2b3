import { UsageError } from '../errors.js'
import { down as swarmDown, logs as swarmLogs, ps as swarmPs, SwarmClient, up as swarmUp } from '../swarm/index.js'
import { paint } from './attach.js'
import { colorOutput, loadFor, millis, progressMode, type GlobalFlags } from './global.js'
import { table } from './table.js'

/**
 * The commands `--engine swarm` serves (up -d, up --wait, down, ps, logs),
 * as thin as the others: flags → src/swarm. DOCKER_HOST names the manager.
 */

/** Whether the command runs on Swarm (--engine swarm or PIER_ENGINE=swarm). */
export function onSwarm(flags: GlobalFlags): boolean {
  return (flags.engine as string) === 'swarm'
}

function events(flags: GlobalFlags): (line: string) => void {
  return progressMode(flags) === 'quiet' ? () => {} : (line) => void process.stderr.write(`${line}\n`)
}

async function withSwarm<T>(fn: (swarm: SwarmClient) => Promise<T>): Promise<T> {
  const swarm = await SwarmClient.connect()
  try {
    return await fn(swarm)
  } finally {
    swarm.close()
  }
}

export async function up(flags: GlobalFlags, services: string[], opts: { detach?: boolean; wait?: boolean; waitTimeout?: string; dryRun?: boolean }): Promise<void> {
  if (!opts.detach && !opts.wait) throw new UsageError('on Swarm, up runs detached: add -d (or --wait to wait for every task to be running and healthy)')
  if (opts.dryRun) throw new UsageError('--dry-run is not supported with --engine swarm')
  if (services.length) throw new UsageError('on Swarm, up deploys the whole project: drop the service names')
  // --wait-timeout bounds --wait and each depends_on wait.
  const timeoutMs = millis(opts.waitTimeout, '--wait-timeout')
  const project = await loadFor(flags)
  const result = await withSwarm((swarm) => swarmUp(swarm, project, { ...(opts.wait ? { wait: true } : {}), ...(timeoutMs ? { timeoutMs } : {}), onEvent: events(flags) }))
  if (!result.created.length && !result.updated.length && !result.removed.length && progressMode(flags) !== 'quiet') process.stderr.write(`project ${project.name} is up to date\n`)
}

export async function down(flags: GlobalFlags, services: string[], opts: { volumes?: boolean } = {}): Promise<void> {
  if (services.length) throw new UsageError(`down ${services.join(' ')}: --engine swarm takes the whole project down; remove one service by deleting it from the file and running up again`)
  // Swarm makes a named volume on each node that ran a task; the manager cannot remove another node's.
  if (opts.volumes) process.stderr.write('warning: on Swarm, named volumes live on each node that ran a task: remove them there (docker volume rm)\n')
  const project = await loadFor(flags, [], { quiet: true, allProfiles: true })
  const removed = await withSwarm((swarm) => swarmDown(swarm, project.name, { onEvent: events(flags) }))
  if (removed === 0 && progressMode(flags) !== 'quiet') process.stderr.write(`project ${project.name}: nothing to remove\n`)
}

export async function ps(flags: GlobalFlags, services: string[], opts: { all?: boolean; quiet?: boolean; services?: boolean; format: string }): Promise<void> {
  const project = await loadFor(flags, services, { quiet: true })
  const rows = await withSwarm((swarm) => swarmPs(swarm, project.name, { services, ...(opts.all ? { all: true } : {}) }))
  if (opts.services) return void process.stdout.write([...new Set(rows.map((r) => r.service))].map((s) => `${s}\n`).join(''))
  if (opts.quiet) return void process.stdout.write(rows.map((r) => `${r.id}\n`).join(''))
  if (opts.format === 'json') return void process.stdout.write(rows.map((r) => `${JSON.stringify({ ID: r.id, Name: r.name, Service: r.service, Image: r.image, Node: r.node, DesiredState: r.desiredState, CurrentState: r.state, Error: r.error, Ports: r.ports })}\n`).join(''))
  if (opts.format !== 'table') throw new UsageError('with --engine swarm, ps prints --format table or json')
  process.stdout.write(table([['NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'], ...rows.map((r) => [r.name, r.image, r.node, r.desiredState, `${r.state} ${ago(r.since)}`, r.error, r.ports])]))
}

export async function logs(flags: GlobalFlags, services: string[], opts: { follow?: boolean; tail?: string; timestamps?: boolean; since?: string; color: boolean; logPrefix: boolean }): Promise<void> {
  const tail = opts.tail === undefined || opts.tail === 'all' ? undefined : Number(opts.tail)
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new UsageError(`invalid --tail "${opts.tail}": give a number of lines or "all"`)
  const project = await loadFor(flags, services, { quiet: true })
  const names = Object.keys(project.services).sort()
  const width = Math.max(0, ...names.map((n) => n.length))
  const color = opts.color && colorOutput(flags)
  await withSwarm((swarm) =>
    swarmLogs(swarm, project.name, (l) => {
      const prefix = opts.logPrefix ? `${paint(`${l.service.padEnd(width)} |`, names.indexOf(l.service), color)} ` : ''
      process.stdout.write(`${prefix}${l.text}\n`)
    }, { services, ...(opts.follow ? { follow: true } : {}), ...(tail !== undefined ? { tail } : {}), ...(opts.timestamps ? { timestamps: true } : {}), ...(opts.since ? { since: opts.since } : {}) }),
  )
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000))
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`
}

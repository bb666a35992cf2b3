import type { Container } from '../engine/engine.js'
import { UsageError } from '../errors.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'

/**
 * `ps` as Docker Compose prints it: its JSON fields (one object a line, as
 * Compose v2 prints them since 2.21), its status words ("Up 5 seconds
 * (healthy)", "Exited (1) 3 seconds ago"), and Go-template formats such as
 * `{{.Name}}\t{{.Status}}`.
 */
export interface PsRow {
  ID: string
  Name: string
  Names: string
  Image: string
  Command: string
  Project: string
  Service: string
  Created: number
  CreatedAt: string
  RunningFor: string
  State: string
  Status: string
  Health: string
  ExitCode: number
  Ports: string
  Publishers: { URL: string; TargetPort: number; PublishedPort: number; Protocol: string }[]
  Labels: string
  LocalVolumes: string
  Mounts: string
  Networks: string
  Size: string
}

/** Docker's words for a span of time (go-units' HumanDuration). */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 1) return 'Less than a second'
  if (s === 1) return '1 second'
  if (s < 60) return `${s} seconds`
  const m = Math.floor(s / 60)
  if (m === 1) return 'About a minute'
  if (m < 60) return `${m} minutes`
  const h = Math.round(m / 60)
  if (h === 1) return 'About an hour'
  if (h < 48) return `${h} hours`
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`
  return `${Math.floor(h / 24 / 365)} years`
}

function status(c: Container, now: number): string {
  const since = (at?: string) => humanDuration(now - Date.parse(at ?? c.createdAt))
  const health = c.health ? ` (${c.health === 'starting' ? 'health: starting' : c.health})` : ''
  switch (c.state) {
    case 'running':
      return `Up ${since(c.startedAt)}${health}`
    case 'paused':
      return `Up ${since(c.startedAt)} (Paused)`
    case 'restarting':
      return `Restarting (${c.exitCode ?? 0}) ${since(c.finishedAt)} ago`
    case 'exited':
      return `Exited (${c.exitCode ?? 0}) ${since(c.finishedAt)} ago`
    case 'dead':
      return 'Dead'
    default:
      return 'Created'
  }
}

export function psRow(c: Container, project: Project, now = Date.now()): PsRow {
  const service = c.labels[LABEL.service]
  const own = project.services[service]
  const ports = c.ports.map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`)
  // Exposed ports that are not published come after, as docker compose ps shows them.
  const exposed = c.exposedPorts.filter((e) => !c.ports.some((p) => `${p.containerPort}/${p.protocol}` === e))
  const created = Date.parse(c.createdAt)
  return {
    ID: c.id,
    Name: c.name,
    Names: c.name,
    Image: own?.image ?? (own?.build ? `${project.name}-${service}` : c.image),
    Command: JSON.stringify(c.command.join(' ')),
    Project: c.labels[LABEL.project] ?? project.name,
    Service: service,
    Created: Math.floor(created / 1000),
    CreatedAt: new Date(created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: `${humanDuration(now - created)} ago`,
    State: c.state,
    Status: status(c, now),
    Health: c.health ?? '',
    ExitCode: c.exitCode ?? 0,
    Ports: [...ports, ...exposed].join(', '),
    Publishers: c.ports.map((p) => ({ URL: p.hostIp ?? '0.0.0.0', TargetPort: p.containerPort, PublishedPort: Number(p.hostPort), Protocol: p.protocol })),
    Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(','),
    LocalVolumes: String(c.mounts.filter((m) => m.type === 'volume').length),
    Mounts: c.mounts.map((m) => m.source || m.target).join(','),
    Networks: Object.keys(c.addresses).join(','),
    Size: '0B',
  }
}

/**
 * A Go-template format as Docker's CLI takes it: `{{.Field}}` (and
 * `{{json .Field}}`), `\t` and `\n`; a leading `table ` adds a header line.
 * Unknown fields are refused, naming the ones there are.
 */
export function renderTemplate(format: string, rows: PsRow[]): string {
  const table = format.startsWith('table ')
  const body = (table ? format.slice(6) : format).replace(/\\t/g, '\t').replace(/\\n/g, '\n')
  const fields = [...body.matchAll(/\{\{\s*(json\s+)?\.(\w+)\s*\}\}/g)]
  for (const [, , field] of fields) if (!FIELDS.includes(field)) throw new UsageError(`unknown ps field "${field}": use one of ${FIELDS.join(', ')}`)
  const line = (r: PsRow | undefined) => body.replace(/\{\{\s*(json\s+)?\.(\w+)\s*\}\}/g, (_, json: string | undefined, field: string) => (r ? (json ? JSON.stringify(r[field as keyof PsRow]) : String(r[field as keyof PsRow])) : field.toUpperCase()))
  return [...(table ? [line(undefined)] : []), ...rows.map(line)].map((l) => `${l}\n`).join('')
}

const FIELDS = ['ID', 'Name', 'Names', 'Image', 'Command', 'Project', 'Service', 'Created', 'CreatedAt', 'RunningFor', 'State', 'Status', 'Health', 'ExitCode', 'Ports', 'Publishers', 'Labels', 'LocalVolumes', 'Mounts', 'Networks', 'Size']

/** `--filter status=running` (and `source=`-less `KEY=VALUE` pairs Compose knows): the states to keep. */
export function statusFilters(filters: string[]): string[] {
  return filters.map((f) => {
    const m = /^status=(\w+)$/.exec(f)
    if (!m) throw new UsageError(`invalid --filter "${f}": pier filters by status=STATE, as docker compose ps does`)
    return m[1]
  })
}

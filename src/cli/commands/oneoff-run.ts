import { readFileSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { createOneOff } from '../../compose/run.js'
import type { Mount, PortBinding } from '../../engine/engine.js'
import { UsageError } from '../../errors.js'
import { parseDotenv } from '../../spec/dotenv.js'
import type { Project } from '../../spec/project.js'
import { contextFor, loadFor, type GlobalFlags } from '../global.js'

export interface RunFlags {
  rm?: boolean
  detach?: boolean
  env?: string[]
  user?: string
  workdir?: string
  volume?: string[]
  publish?: string[]
  servicePorts?: boolean
  entrypoint?: string
  envFromFile?: string[]
  name?: string
  deps: boolean
  tty: boolean
  interactive?: boolean
}

/**
 * `pier run SERVICE [COMMAND...]`: flags → compose.createOneOff, then the
 * one-off runs in pier's foreground (stdin to it, a terminal when pier has
 * one unless -T, its exit code pier's) or, with -d, in the background.
 */
export async function run(flags: GlobalFlags, service: string, command: string[], opts: RunFlags): Promise<void> {
  const project = await loadFor(flags, [service], { quiet: true })
  const env = Object.fromEntries([
    // --env-from-file first: -e wins over it, as in Compose.
    ...(opts.envFromFile ?? []).flatMap((file) => Object.entries(envFile(file))),
    ...(opts.env ?? []).map((e) => {
      const cut = e.indexOf('=')
      return cut < 0 ? [e, process.env[e] ?? ''] : [e.slice(0, cut), e.slice(cut + 1)]
    }),
  ])
  const mounts = (opts.volume ?? []).map((v) => volumeFlag(project, v))
  const ports = (opts.publish ?? []).map(publishFlag)
  const ctx = await contextFor(flags)
  // Interactive as docker compose run is: a terminal when pier has one (unless -T), stdin kept open (-i).
  const tty = !opts.detach && opts.tty && !!process.stdin.isTTY && !!process.stdout.isTTY
  const container = await createOneOff(ctx, project, service, {
    command,
    ...(opts.entrypoint !== undefined ? { entrypoint: opts.entrypoint } : {}),
    env,
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.workdir ? { workingDir: opts.workdir } : {}),
    mounts,
    ports,
    ...(opts.servicePorts ? { servicePorts: true } : {}),
    ...(opts.name ? { name: opts.name } : {}),
    ...(!opts.deps ? { noDeps: true } : {}),
    tty,
    // -i is Compose's default, detached too: `run -d svc cat` keeps running on its open stdin.
    stdinOpen: opts.interactive !== false,
  })
  if (opts.detach) {
    await ctx.engine.start(container.id)
    process.stdout.write(`${container.name}\n`)
    return
  }
  let code: number
  try {
    code = await ctx.engine.startAttached(container.id, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr })
  } finally {
    process.stdin.destroy()
    if (opts.rm) await ctx.engine.remove(container.id, { force: true, volumes: true })
  }
  process.exitCode = code
}

/** `--env-from-file FILE`: a .env-style file (a regular file, at most 16 MiB), its variables resolved against pier's environment. */
function envFile(file: string): Record<string, string> {
  const path = resolve(file)
  const info = statSync(path, { throwIfNoEntry: false })
  if (!info?.isFile()) throw new UsageError(`--env-from-file ${file}: ${info ? 'not a regular file' : 'no such file'}`)
  if (info.size > 16 * 1024 * 1024) throw new UsageError(`--env-from-file ${file}: larger than 16 MiB`)
  return parseDotenv(readFileSync(path, 'utf8'), path, (name) => process.env[name])
}

/** `-v SOURCE:TARGET[:ro]`: a bind mount when SOURCE is a path, else a named volume. */
function volumeFlag(project: Project, text: string): Mount {
  const [source, target, mode] = text.split(':')
  if (!source || !target || !target.startsWith('/') || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) throw new UsageError(`invalid --volume "${text}": expected SOURCE:TARGET[:ro|rw] with an absolute TARGET`)
  const readOnly = mode === 'ro'
  if (source.startsWith('.') || isAbsolute(source) || source.startsWith('~')) {
    const path = source.startsWith('~') ? resolve(process.env.HOME ?? '/', source.slice(2)) : resolve(project.workingDir, source)
    return { type: 'bind', source: path, target, readOnly, createHostPath: true }
  }
  return { type: 'volume', source: project.volumes[source]?.name ?? source, target, readOnly }
}

/** `-p [[IP:]HOST:]CONTAINER[/PROTO]`. */
function publishFlag(text: string): PortBinding {
  const m = /^(?:(?:(\d+\.\d+\.\d+\.\d+):)?(\d*(?:-\d+)?):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(text)
  if (!m) throw new UsageError(`invalid --publish "${text}": expected [[IP:]HOST:]CONTAINER[/PROTOCOL]`)
  return { ...(m[1] ? { hostIp: m[1] } : {}), ...(m[2] ? { hostPort: m[2] } : {}), containerPort: Number(m[3]), protocol: (m[4] ?? 'tcp') as PortBinding['protocol'] }
}

import type { Cast } from './cast.js'
import { parseDotenv } from './dotenv.js'
import { normalizeMounts } from './mounts.js'
import { isPlainDict, type Dict } from './data.js'
import { absoluteContexts, isRemoteContext, resolvePath } from './paths.js'
import { normalizePorts } from './ports.js'
import { describeProblem, MAX_ENV_FILE, ReadError, readRegularFile } from './read.js'
import type { Build, Dependency, Deploy, EnvFile, FileReference, Healthcheck, Hook, Service, ServiceNetwork, Ulimit, UpdateConfig, WatchRule } from './project.js'
import { shellSplit } from './shellwords.js'
import { childPath, displayName, type FieldPath } from './source.js'

export interface ServiceContext {
  cast: Cast
  workingDir: string
  /** The project's variables: where `environment: [KEY]` and bare build args take their value. */
  environment: Record<string, string>
}

/** Attributes read by a dedicated rule below; every other attribute is copied as validated. */
type Reader = (value: unknown, path: FieldPath, raw: Dict) => unknown

/**
 * One service in its long form. Each attribute has a reader; attributes
 * without one (gpus, blkio_config, credential_spec, …) are carried over as the
 * schema validated them.
 */
export function normalizeService(name: string, raw: Dict, ctx: ServiceContext): Service {
  const base = `services.${name}`
  const readers = serviceReaders(ctx)
  const out: Dict = { name }
  for (const key of Object.keys(raw)) {
    if (key === 'extends') continue
    const reader = readers[key]
    const value = reader ? reader(raw[key], childPath(base, key), raw) : raw[key]
    if (value !== undefined) out[key] = value
  }
  out.environment = environment(raw, base, ctx)
  out.labels = labels(raw, base, ctx)
  out.ports ??= []
  out.expose ??= []
  out.volumes ??= []
  out.depends_on ??= {}
  if (raw.networks === undefined && raw.network_mode === undefined) out.networks = { default: null }
  return sortKeys(out) as Service
}

function serviceReaders(ctx: ServiceContext): Record<string, Reader> {
  const { cast, workingDir } = ctx
  const bool: Reader = (v, p) => cast.bool(v, p)
  const int: Reader = (v, p) => cast.int(v, p)
  const num: Reader = (v, p) => cast.number(v, p)
  const bytes: Reader = (v, p) => cast.bytes(v, p)
  const list: Reader = (v) => cast.list(v)
  const strings: Reader = (v) => cast.dict(v)
  const command: Reader = (v, p) => shellCommand(v, p, cast)
  return {
    command,
    entrypoint: command,
    environment: () => undefined, // merged with env_file below
    labels: () => undefined, // merged with label_file below
    label_file: (v) => cast.list(v)!.map((f) => resolvePath(workingDir, f)),
    env_file: (v, p) => envFiles(v, p, ctx),
    annotations: strings,
    sysctls: strings,
    build: (v, p) => build(v, p, ctx),
    ports: (v, p) => normalizePorts(v, p, cast),
    expose: (v) => (v as unknown[]).map(String),
    volumes: (v, p) => normalizeMounts(v, p, cast, workingDir),
    tmpfs: list,
    dns: list,
    dns_search: list,
    depends_on: (v, p) => dependsOn(v, p, cast),
    networks: (v) => serviceNetworks(v, cast),
    extra_hosts: (v, p) => extraHosts(v, p, cast),
    healthcheck: (v, p) => healthcheck(v, p, cast),
    deploy: (v, p) => deploy(v, p, cast),
    ulimits: (v, p) => ulimits(v, p, cast),
    devices: (v, p) => devices(v, p, cast),
    secrets: (v, p) => fileReferences(v, p, cast),
    configs: (v, p) => fileReferences(v, p, cast),
    logging: (v, p) => cast.fields(v, p, { driver: (x) => String(x), options: (x) => cast.dict(x) }),
    post_start: (v, p) => (v as unknown[]).map((h, i) => hook(h, childPath(p, i), cast)),
    pre_stop: (v, p) => (v as unknown[]).map((h, i) => hook(h, childPath(p, i), cast)),
    develop: (v, p) => develop(v, p, ctx),
    restart: (v, p) => restartPolicy(v, p, cast),
    pull_policy: (v) => (v === 'if_not_present' ? 'missing' : String(v)),
    stop_grace_period: (v, p) => cast.duration(v, p),
    pid: (v) => (v === null ? undefined : String(v)),
    mem_limit: bytes,
    memswap_limit: bytes,
    mem_reservation: bytes,
    shm_size: bytes,
    mem_swappiness: int,
    cpus: num,
    cpu_shares: int,
    cpu_quota: int,
    cpu_period: int,
    cpu_rt_period: int,
    cpu_rt_runtime: int,
    cpu_count: int,
    cpu_percent: int,
    pids_limit: int,
    oom_score_adj: int,
    scale: int,
    group_add: (v) => (v as unknown[]).map(String),
    tty: bool,
    stdin_open: bool,
    read_only: bool,
    privileged: bool,
    init: bool,
    attach: bool,
    oom_kill_disable: bool,
  }
}

/** A string command is split as a shell would split it (without running one); a list is kept. */
function shellCommand(value: unknown, path: FieldPath, cast: Cast): string[] | undefined {
  if (value === null || value === undefined) return undefined
  if (Array.isArray(value)) return value.map(String)
  try {
    return shellSplit(String(value))
  } catch (err) {
    return cast.fail(path, `cannot split the command: ${(err as Error).message}`)
  }
}

function envFiles(value: unknown, path: FieldPath, ctx: ServiceContext): EnvFile[] {
  const list = Array.isArray(value) ? value : [value]
  return list.map((entry, i) => {
    if (isPlainDict(entry)) {
      const file: EnvFile = { path: resolvePath(ctx.workingDir, String(entry.path)), required: ctx.cast.bool(entry.required, childPath(childPath(path, i), 'required')) ?? true }
      if (entry.format !== undefined) file.format = String(entry.format)
      return file
    }
    return { path: resolvePath(ctx.workingDir, String(entry)), required: true }
  })
}

/**
 * The container's environment: env_file contents (later files win), then
 * `environment` over them. A key without a value takes the project's variable
 * of that name, and is left out when there is none. Inside an env_file,
 * `${VAR}` and a bare `VAR` look in the project's variables first, then in
 * the service's `environment`, then in what the files defined before (as
 * compose-go's WithServicesEnvironmentResolved does).
 */
function environment(raw: Dict, base: FieldPath, ctx: ServiceContext): Record<string, string> {
  const own = ctx.cast.dict(raw.environment, (key) => ctx.environment[key])
  if (raw.env_file === undefined) return own
  const out: Record<string, string> = {}
  const vars = new Map(Object.entries(own))
  const lookup = (key: string) => ctx.environment[key] ?? own[key]
  const at = childPath(base, 'env_file')
  for (const [i, file] of envFiles(raw.env_file, at, ctx).entries()) {
    const text = readListedFile(file.path, childPath(at, i), 'env file', ctx, file.required)
    if (text !== undefined) Object.assign(out, parseDotenv(text, file.path, lookup, vars))
  }
  return Object.assign(out, own)
}

function labels(raw: Dict, base: FieldPath, ctx: ServiceContext): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [i, file] of (ctx.cast.list(raw.label_file) ?? []).entries()) {
    const path = resolvePath(ctx.workingDir, file)
    const text = readListedFile(path, childPath(childPath(base, 'label_file'), i), 'label file', ctx, true)!
    Object.assign(out, parseDotenv(text, path, () => undefined))
  }
  return Object.assign(out, ctx.cast.dict(raw.labels))
}

/** An env or label file's text; undefined when it is optional and missing. */
function readListedFile(path: string, at: FieldPath, what: string, ctx: ServiceContext, required: boolean): string | undefined {
  try {
    return readRegularFile(path, MAX_ENV_FILE)
  } catch (err) {
    if (!(err instanceof ReadError)) throw err
    if (err.problem === 'missing' && !required) return undefined
    const hint = err.problem === 'missing' && what === 'env file' ? ': create it, or mark it optional with "required: false"' : ''
    return ctx.cast.fail(at, `${what} ${displayName(path)} ${describeProblem(err.problem, MAX_ENV_FILE)}${hint}`)
  }
}

function build(value: unknown, path: FieldPath, ctx: ServiceContext): Build {
  const { cast } = ctx
  const raw: Dict = typeof value === 'string' ? { context: value } : (value as Dict)
  const context = typeof raw.context === 'string' ? raw.context : '.'
  const out = cast.fields<Build>(raw, path, {
    args: (v) => cast.dict(v, (k) => ctx.environment[k] ?? (null as unknown as string)),
    labels: (v) => cast.dict(v),
    ssh: (v) => (isPlainDict(v) ? Object.entries(v).map(([k, x]) => (x === null ? k : `${k}=${x}`)) : cast.list(v)),
    additional_contexts: (v) => cast.dict(absoluteContexts(v, ctx.workingDir)),
    shm_size: (v, p) => cast.bytes(v, p),
    extra_hosts: (v, p) => extraHosts(v, p, cast),
    secrets: (v, p) => fileReferences(v, p, cast),
    no_cache: (v, p) => cast.bool(v, p),
    pull: (v, p) => cast.bool(v, p),
    privileged: (v, p) => cast.bool(v, p),
  })
  out.context = isRemoteContext(context) ? context : resolvePath(ctx.workingDir, context)
  if (out.dockerfile === undefined && out.dockerfile_inline === undefined) out.dockerfile = 'Dockerfile'
  return sortKeys(out)
}

function dependsOn(value: unknown, path: FieldPath, cast: Cast): Record<string, Dependency> {
  const out: Record<string, Dependency> = {}
  if (Array.isArray(value)) {
    for (const name of value) out[String(name)] = { condition: 'service_started', required: true }
    return out
  }
  for (const [name, raw] of Object.entries(value as Dict)) {
    const d = raw as Dict
    const at = childPath(path, name)
    const dep: Dependency = { condition: d.condition as Dependency['condition'], required: cast.bool(d.required, childPath(at, 'required')) ?? true }
    const restart = cast.bool(d.restart, childPath(at, 'restart'))
    if (restart !== undefined) dep.restart = restart
    out[name] = { condition: dep.condition, ...(dep.restart !== undefined ? { restart: dep.restart } : {}), required: dep.required }
  }
  return out
}

function serviceNetworks(value: unknown, cast: Cast): Record<string, ServiceNetwork | null> {
  const out: Record<string, ServiceNetwork | null> = {}
  if (Array.isArray(value)) {
    for (const name of value) out[String(name)] = null
    return out
  }
  for (const [name, raw] of Object.entries(value as Dict)) {
    if (raw === null) {
      out[name] = null
      continue
    }
    out[name] = cast.fields<ServiceNetwork>(raw, `networks.${name}`, {
      aliases: (v) => cast.list(v),
      link_local_ips: (v) => cast.list(v),
      driver_opts: (v) => cast.dict(v),
    })
  }
  return out
}

/** `host:ip`, `host=ip` or a mapping → host → addresses (a host may have several). */
function extraHosts(value: unknown, path: FieldPath, cast: Cast): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  // `host=1.2.3.4,5.6.7.8` is two addresses of one host (compose-go's HostsList).
  const addresses = (ip: unknown) => String(ip).split(',').map((a) => a.trim().replace(/^\[(.*)\]$/, '$1'))
  if (isPlainDict(value)) {
    for (const [host, ips] of Object.entries(value)) out[host] = (Array.isArray(ips) ? ips : [ips]).flatMap(addresses)
    return out
  }
  for (const [i, item] of (value as unknown[]).entries()) {
    const text = String(item)
    const eq = text.indexOf('=')
    const cut = eq >= 0 ? eq : text.indexOf(':')
    if (cut <= 0) cast.fail(childPath(path, i), `invalid extra host "${text}": expected HOST=IP or HOST:IP`)
    const host = text.slice(0, cut)
    ;(out[host] ??= []).push(...addresses(text.slice(cut + 1)))
  }
  // `h:1.2.3.4` in one file and `h=1.2.3.4` in another are one entry.
  for (const host of Object.keys(out)) out[host] = [...new Set(out[host])]
  return out
}

function healthcheck(value: unknown, path: FieldPath, cast: Cast): Healthcheck {
  const raw = value as Dict
  const out = cast.fields<Healthcheck>(raw, path, {
    test: (v, p) => {
      if (typeof v === 'string') return ['CMD-SHELL', v]
      const test = (v as unknown[]).map(String)
      if (test.length > 0 && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0])) {
        return cast.fail(p, `a healthcheck test list starts with "CMD", "CMD-SHELL" or "NONE" (got "${test[0]}")`)
      }
      return test
    },
    // Zero means "the default" to Docker, so it is the same as not setting it.
    interval: (v, p) => cast.duration(v, p) || undefined,
    timeout: (v, p) => cast.duration(v, p) || undefined,
    start_period: (v, p) => cast.duration(v, p) || undefined,
    start_interval: (v, p) => cast.duration(v, p) || undefined,
    retries: (v, p) => cast.int(v, p),
    disable: (v, p) => cast.bool(v, p),
  })
  return out
}

function deploy(value: unknown, path: FieldPath, cast: Cast): Deploy | undefined {
  if (value === null) return undefined
  const resources = (v: unknown, p: FieldPath) =>
    cast.fields(v, p, {
      limits: (x: unknown, q: FieldPath) => cast.fields(x, q, { cpus: (y, r) => cast.number(y, r), memory: (y, r) => cast.bytes(y, r), pids: (y, r) => cast.int(y, r) }),
      reservations: (x: unknown, q: FieldPath) => cast.fields(x, q, { cpus: (y, r) => cast.number(y, r), memory: (y, r) => cast.bytes(y, r) }),
    })
  // update_config and rollback_config are one shape; their durations are milliseconds, like restart_policy's.
  const updates = (v: unknown, p: FieldPath) =>
    cast.fields<UpdateConfig>(v, p, {
      parallelism: (x, q) => cast.int(x, q),
      delay: (x, q) => cast.duration(x, q),
      monitor: (x, q) => cast.duration(x, q),
      max_failure_ratio: (x, q) => cast.number(x, q),
    })
  return cast.fields<Deploy>(value, path, {
    replicas: (v, p) => cast.int(v, p),
    update_config: updates,
    rollback_config: updates,
    labels: (v) => cast.dict(v),
    resources: resources as (v: unknown, p: FieldPath) => Deploy['resources'],
    restart_policy: (v, p) =>
      cast.fields(v, p, {
        condition: (x) => String(x),
        delay: (x, q) => cast.duration(x, q),
        window: (x, q) => cast.duration(x, q),
        max_attempts: (x, q) => cast.int(x, q),
      }),
  })
}

function ulimits(value: unknown, path: FieldPath, cast: Cast): Record<string, Ulimit> {
  const out: Record<string, Ulimit> = {}
  for (const [name, raw] of Object.entries(value as Dict)) {
    const at = childPath(path, name)
    if (isPlainDict(raw)) {
      const soft = cast.int(raw.soft, childPath(at, 'soft'))!
      const hard = cast.int(raw.hard, childPath(at, 'hard'))!
      if (soft > hard && hard !== -1) cast.fail(at, `the soft limit (${soft}) is above the hard limit (${hard})`)
      out[name] = { soft, hard }
    } else {
      const n = cast.int(raw, at)!
      // Written as one number, printed as one number (as Compose does); the flag is not enumerable so
      // the engine contract and the config hash still see only {soft, hard}.
      out[name] = Object.defineProperty({ soft: n, hard: n }, 'single', { value: true, enumerable: false })
    }
  }
  return out
}

function devices(value: unknown, path: FieldPath, cast: Cast) {
  return (value as unknown[]).map((item, i) => {
    if (isPlainDict(item)) {
      return { source: String(item.source), target: String(item.target ?? item.source), permissions: String(item.permissions ?? 'rwm') }
    }
    const parts = String(item).split(':')
    if (parts.length > 3 || parts[0] === '') cast.fail(childPath(path, i), `invalid device "${item}": expected HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]`)
    const [source, target = source, permissions = 'rwm'] = parts
    return { source, target, permissions }
  })
}

function fileReferences(value: unknown, path: FieldPath, cast: Cast): FileReference[] {
  return (value as unknown[]).map((item, i) => {
    if (!isPlainDict(item)) return { source: String(item) }
    return cast.fields<FileReference>(item, childPath(path, i), {
      source: (v) => String(v),
      target: (v) => String(v),
      uid: (v) => String(v),
      gid: (v) => String(v),
      // A string mode is octal, as file modes are written (`"0440"`).
      mode: (v, p) => (typeof v === 'string' ? (/^[0-7]+$/.test(v) ? parseInt(v, 8) : cast.fail(p, `invalid file mode "${v}": use octal digits, like "0440"`)) : cast.int(v, p)),
    })
  })
}

function hook(value: unknown, path: FieldPath, cast: Cast): Hook {
  return cast.fields<Hook>(value, path, {
    command: (v, p) => shellCommand(v, p, cast),
    privileged: (v, p) => cast.bool(v, p),
    environment: (v) => cast.dict(v),
  })
}

function develop(value: unknown, path: FieldPath, ctx: ServiceContext) {
  if (value === null) return undefined
  const { cast } = ctx
  return cast.fields<{ watch?: WatchRule[] }>(value, path, {
    watch: (v, p) =>
      (v as unknown[]).map((rule, i) =>
        cast.fields<WatchRule>(rule, childPath(p, i), {
          path: (x) => resolvePath(ctx.workingDir, String(x)),
          ignore: (x) => cast.list(x),
          include: (x) => cast.list(x),
          exec: (x, q) => hook(x, q, cast),
        }),
      ),
  })
}

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/

function restartPolicy(value: unknown, path: FieldPath, cast: Cast): string {
  const text = String(value)
  if (!RESTART.test(text)) return cast.fail(path, `invalid restart policy "${text}": use no, always, on-failure[:MAX] or unless-stopped`)
  return text
}

/** The same object with its keys in code-point order (how Compose prints them). */
function sortKeys<T extends object>(value: T): T {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) out[key] = (value as Record<string, unknown>)[key]
  return out as T
}

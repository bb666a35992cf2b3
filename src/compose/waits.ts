import { connect } from 'node:net'
import type { Container } from '../engine/engine.js'
import { PierError } from '../errors.js'
import { abortError } from '../errors.js'
import type { Context } from './context.js'

/**
 * How a test knows a service is ready. Each strategy is checked from this
 * machine against one container, again and again until it holds or its
 * time is up; a container that exits (or turns unhealthy) fails it at once.
 */
export type WaitStrategy =
  | { kind: 'healthcheck'; timeoutMs?: number }
  /** A listening TCP port, reached from this machine: works on images with no shell. */
  | { kind: 'port'; port: number; timeoutMs?: number }
  /** A line of the container's output, `times` times (default once). */
  | { kind: 'log'; match: string | RegExp; times?: number; timeoutMs?: number }
  /** An HTTP request answered with `status` (default any 2xx) and, if given, a body `body` accepts. */
  | { kind: 'http'; port: number; path?: string; status?: number; body?: (text: string) => boolean; timeoutMs?: number }
  /** A command run in the container that exits 0. */
  | { kind: 'command'; argv: string[]; timeoutMs?: number }
  /** A one-shot that has run and exited 0. */
  | { kind: 'completed'; timeoutMs?: number }
  /** Running (the default for a service with no healthcheck). */
  | { kind: 'running'; timeoutMs?: number }

/** Builders for the strategies: `wait.forHttp('/health', { port: 80 })`. */
export const wait = {
  forHealthcheck: (options: { timeoutMs?: number } = {}): WaitStrategy => ({ kind: 'healthcheck', ...options }),
  forPort: (port: number, options: { timeoutMs?: number } = {}): WaitStrategy => ({ kind: 'port', port, ...options }),
  forLog: (match: string | RegExp, options: { times?: number; timeoutMs?: number } = {}): WaitStrategy => ({ kind: 'log', match, ...options }),
  forHttp: (path: string, options: { port: number; status?: number; body?: (text: string) => boolean; timeoutMs?: number }): WaitStrategy => ({ kind: 'http', path, ...options }),
  forCommand: (argv: string[], options: { timeoutMs?: number } = {}): WaitStrategy => ({ kind: 'command', argv, ...options }),
  forCompletion: (options: { timeoutMs?: number } = {}): WaitStrategy => ({ kind: 'completed', ...options }),
  forRunning: (options: { timeoutMs?: number } = {}): WaitStrategy => ({ kind: 'running', ...options }),
}

/**
 * A service did not become ready. It carries what a test needs to see why:
 * the container's state and health, and its last lines of output.
 */
export class WaitError extends PierError {
  readonly code = 'wait'

  constructor(
    readonly service: string,
    readonly reason: string,
    readonly container: Container | undefined,
    readonly lastLogs: string[],
  ) {
    const state = container ? `${container.state}${container.health ? ` (${container.health})` : ''}${container.exitCode !== undefined && container.state === 'exited' ? `, exit code ${container.exitCode}` : ''}` : 'no container'
    super(`service "${service}" is not ready: ${reason} [${state}]${lastLogs.length ? `\nlast output of ${container?.name}:\n${lastLogs.map((l) => `  ${l}`).join('\n')}` : ''}`)
  }
}

/** The strategy a service gets when the test names none: its healthcheck if it has one, else running. */
export function defaultStrategy(container: Container, hasHealthcheck: boolean): WaitStrategy {
  return hasHealthcheck || container.health ? { kind: 'healthcheck' } : { kind: 'running' }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits until `strategy` holds for `container` (of `service`), or throws a WaitError with its state and output. */
export async function waitUntilReady(ctx: Context, service: string, container: Container, strategy: WaitStrategy, defaultTimeoutMs: number): Promise<void> {
  const deadline = Date.now() + (strategy.timeoutMs ?? defaultTimeoutMs)
  let last = 'not checked yet'
  for (;;) {
    if (ctx.signal?.aborted) throw abortError(ctx.signal)
    const now = await ctx.engine.inspectContainer(container.id)
    if (!now) throw await failure(ctx, service, container, 'its container is gone')
    const exited = now.state === 'exited' || now.state === 'dead'
    if (strategy.kind === 'completed') {
      if (exited && now.exitCode === 0) return
      if (exited) throw await failure(ctx, service, now, `it exited with code ${now.exitCode ?? 'unknown'}`)
    } else if (exited) throw await failure(ctx, service, now, `it exited with code ${now.exitCode ?? 'unknown'}`)
    else if (now.health === 'unhealthy') throw await failure(ctx, service, now, 'it is unhealthy')
    else if (now.state === 'restarting') throw await failure(ctx, service, now, `it is restarting after exiting with code ${now.exitCode ?? 'unknown'}`)
    else {
      const verdict = await check(ctx, now, strategy)
      if (verdict === true) return
      last = verdict
    }
    if (Date.now() > deadline) throw await failure(ctx, service, now, `${describe(strategy)} within ${Math.round((strategy.timeoutMs ?? defaultTimeoutMs) / 100) / 10} s (${last})`)
    await sleep(100)
  }
}

function describe(s: WaitStrategy): string {
  switch (s.kind) {
    case 'healthcheck':
      return 'not healthy'
    case 'port':
      return `nothing listening on port ${s.port}`
    case 'log':
      return `no line matching ${String(s.match)}${(s.times ?? 1) > 1 ? ` ${s.times} times` : ''}`
    case 'http':
      return `no answer${s.status ? ` ${s.status}` : ''} from GET ${s.path ?? '/'} on port ${s.port}`
    case 'command':
      return `${JSON.stringify(s.argv.join(' '))} did not succeed`
    case 'completed':
      return 'not completed'
    case 'running':
      return 'not running'
  }
}

/** One check of a strategy: true, or why not (kept for the error). */
async function check(ctx: Context, c: Container, s: WaitStrategy): Promise<true | string> {
  switch (s.kind) {
    case 'running':
      return c.state === 'running' || `state ${c.state}`
    case 'healthcheck':
      return c.health === 'healthy' || (c.health ? `health ${c.health}` : 'it has no healthcheck')
    case 'port': {
      const where = address(c, s.port)
      return where ? ((await reachable(where.host, where.port)) || `connecting to ${where.host}:${where.port} failed`) : `port ${s.port} is neither published nor on a network this machine reaches`
    }
    case 'log': {
      let count = 0
      const test = typeof s.match === 'string' ? (t: string) => t.includes(s.match as string) : (t: string) => (s.match as RegExp).test(t)
      for await (const line of ctx.engine.logs(c.id)) if (test(line.text)) count++
      return count >= (s.times ?? 1) || `${count} matching line${count === 1 ? '' : 's'} so far`
    }
    case 'http': {
      const where = address(c, s.port)
      if (!where) return `port ${s.port} is neither published nor on a network this machine reaches`
      try {
        const res = await fetch(`http://${where.host}:${where.port}${s.path ?? '/'}`, { signal: AbortSignal.timeout(2000) })
        const text = await res.text()
        if (s.status !== undefined ? res.status !== s.status : res.status < 200 || res.status > 299) return `status ${res.status}`
        return !s.body || s.body(text) || 'the body did not match'
      } catch (err) {
        // fetch's own message is "fetch failed"; the cause says why (refused, a malformed response …).
        const cause = (err as Error & { cause?: Error }).cause
        return cause?.message ? `${(err as Error).message}: ${cause.message}` : (err as Error).message
      }
    }
    case 'command': {
      const r = await ctx.engine.exec(c.id, { argv: s.argv }).catch((err: Error) => ({ exitCode: -1, stderr: err.message }))
      return r.exitCode === 0 || `exit code ${r.exitCode}`
    }
    case 'completed':
      return 'still running'
  }
}

/**
 * Where this machine reaches a container port: the container's own address
 * on its network (the real socket: a published port's forwarder accepts
 * connections before the service listens), else the published port.
 */
function address(c: Container, port: number): { host: string; port: number } | undefined {
  const own = Object.values(c.addresses)[0]
  if (own) return { host: own, port }
  const published = c.ports.find((p) => p.containerPort === port && p.protocol === 'tcp')
  if (published) return { host: !published.hostIp || published.hostIp === '0.0.0.0' ? '127.0.0.1' : published.hostIp, port: Number(published.hostPort) }
  return undefined
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}

async function failure(ctx: Context, service: string, container: Container, reason: string): Promise<WaitError> {
  const lines: string[] = []
  try {
    for await (const l of ctx.engine.logs(container.id, { tail: 20 })) lines.push(l.text)
  } catch {
    // no output to show
  }
  return new WaitError(service, reason, container, lines)
}

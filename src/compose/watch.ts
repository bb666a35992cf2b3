import { existsSync } from 'node:fs'
import { UsageError } from '../errors.js'
import type { Project } from '../spec/project.js'
import { requireServices, restart } from './containers.js'
import type { Context } from './context.js'
import { buildService, builtImageName } from './images.js'
import { up } from './up.js'
import { compileRule, ruleProblem, type CompiledRule } from '../watch/rules.js'
import { watchLoop } from '../watch/loop.js'

export interface WatchOptions {
  /** Only these services' rules (default: every service that has `develop.watch`). */
  services?: string[]
  /** Do not bring the project up first (`--no-up`; `up --watch` has done it). */
  noUp?: boolean
  /** After a rebuild, remove the image it replaced (`--prune`). */
  prune?: boolean
  /** Debounce: flush a batch after this much quiet (default 50 ms) … */
  quietMs?: number
  /** … or this long after its first event (default 250 ms). */
  maxMs?: number
  /** Called once changes are being watched. */
  onReady?: () => void
}

/**
 * `watch`: the project brought up (unless noUp), then every `develop.watch`
 * rule of the selected services followed until `ctx.signal` aborts. Rules
 * are checked before anything is done: a missing path or a sync without a
 * target is one line naming the service and the rule.
 */
export async function watch(ctx: Context, project: Project, options: WatchOptions = {}): Promise<void> {
  const named = options.services ?? []
  requireServices(project, named)
  const rules = watchedRules(project, named)
  if (!options.noUp) await up(ctx, project, { services: named })
  if (ctx.signal?.aborted) return
  const loop = {
    engine: ctx.engine,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    info: (text: string) => ctx.reporter?.message?.(text, 'info'),
    warn: (text: string) => ctx.reporter?.message?.(text, 'warning'),
    restart: async (service: string) => void (await restart(ctx, project, [service])),
    // As `up --build SERVICE --no-deps`: the image, then that service alone recreated.
    rebuild: async (service: string) => {
      const spec = project.services[service]
      const previous = await ctx.engine.inspectImage(builtImageName(project, spec))
      const image = await buildService(ctx, project, spec)
      await up(ctx, project, { services: [service], noDeps: true })
      // --prune: the image this one replaced, unless something still uses it.
      if (options.prune && previous && previous.id !== image.id) await ctx.engine.removeImage(previous.id).catch(() => undefined)
    },
  }
  await watchLoop(loop, project, {
    rules,
    ...(options.quietMs !== undefined ? { quietMs: options.quietMs } : {}),
    ...(options.maxMs !== undefined ? { maxMs: options.maxMs } : {}),
    // Said once the tree is scanned: a change from then on is seen.
    onReady: () => {
      ctx.reporter?.message?.(`Watching ${[...new Set(rules.map((r) => r.service))].join(', ')} for changes (Ctrl-C to stop)`, 'info')
      options.onReady?.()
    },
  })
}

/** The compiled rules of the services (all when none named), or a usage error that says what to fix. */
export function watchedRules(project: Project, named: string[] = []): CompiledRule[] {
  const services = named.length ? named : Object.keys(project.services).sort()
  const rules: CompiledRule[] = []
  for (const name of services) {
    const service = project.services[name]
    const watch = service.develop?.watch ?? []
    if (watch.length === 0 && named.length) throw new UsageError(`service "${name}" has no develop.watch rules: add develop.watch to it in the compose file`)
    watch.forEach((rule, i) => {
      const problem = ruleProblem(name, i, rule, existsSync)
      if (problem) throw new UsageError(problem)
      if (rule.action === 'rebuild' && !service.build) throw new UsageError(`service "${name}" develop.watch[${i}]: action rebuild needs a build section`)
      rules.push(compileRule(service, i))
    })
  }
  if (rules.length === 0) throw new UsageError(`none of the services of project ${project.name} has develop.watch rules: add develop.watch to a service to use watch`)
  return rules
}

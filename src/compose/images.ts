import type { Image } from '../engine/engine.js'
import { EngineError } from '../engine/errors.js'
import { PierError, UsageError } from '../errors.js'
import { PlanError } from '../planner/errors.js'
import type { Project, Service } from '../spec/project.js'
import { buildOptions } from './build-options.js'
import { info, type Context } from './context.js'

export type PullPolicy = 'always' | 'missing' | 'never' | 'build'

export interface ImageOptions {
  /** `--build`: build every service that has a build section, even when its image exists. */
  build?: boolean
  /** `--pull`: over each service's pull_policy. */
  pull?: string
  /** `--build-arg`s, over the services' own. */
  buildArgs?: Record<string, string>
  /** Decide without pulling or building (`--dry-run`): a missing image stands as a placeholder. */
  dryRun?: boolean
}

/** The name a built service image gets: its `image:`, else `<project>-<service>` as Compose names it. */
export function builtImageName(project: Project, service: Service): string {
  return service.image ?? `${project.name}-${service.name}`
}

/**
 * The image of every service in `services` (and only those: `up web` pulls
 * web's and its dependencies', nothing else), by Compose's policy: built
 * when the service has `build:` and its image is missing (or with --build,
 * or pull_policy build); present; or pulled (pull_policy missing, always).
 * Pulls and builds of different services run side by side; services sharing
 * an image name share one build.
 */
export async function ensureImages(ctx: Context, project: Project, services: string[], options: ImageOptions = {}): Promise<Record<string, Image>> {
  if (options.pull !== undefined && !['always', 'missing', 'never', 'build'].includes(options.pull)) throw new UsageError(`invalid --pull "${options.pull}": use always, missing or never`)
  const builds = new Map<string, Promise<Image>>()
  const pulls = new Map<string, Promise<Image>>()
  const entries = await Promise.all(
    services.map(async (name): Promise<[string, Image]> => {
      const service = project.services[name]
      const ref = builtImageName(project, service)
      const present = await ctx.engine.inspectImage(ref)
      const policy = options.pull ?? service.pull_policy ?? 'missing'
      if (service.build && (!present || options.build || policy === 'build')) {
        if (options.dryRun) return [name, present ?? placeholder(ref)]
        if (!builds.has(ref)) builds.set(ref, buildService(ctx, project, service, options.buildArgs))
        return [name, await builds.get(ref)!]
      }
      if (present && policy !== 'always') return [name, present]
      if (!service.image) throw new PlanError('invalid', `service "${name}" has neither image nor build`)
      if (policy === 'never') throw new EngineError('not-found', `service "${name}": no image ${service.image} and pull_policy is never`)
      if (options.dryRun) return [name, present ?? placeholder(service.image)]
      if (!pulls.has(service.image)) {
        info(ctx, `Pulling ${service.image}`)
        pulls.set(service.image, ctx.engine.pullImage(service.image))
      }
      return [name, await pulls.get(service.image)!]
    }),
  )
  return Object.fromEntries(entries)
}

/** `--dry-run` plans against an image it has not fetched: its defaults are unknown, and shown as such. */
function placeholder(ref: string): Image {
  return {
    id: `sha256:(${ref}, not present)`,
    tags: [ref],
    digests: [],
    platform: { os: 'linux', architecture: 'unknown' },
    size: 0,
    layers: [],
    config: { env: [], cmd: ['(the image command)'], exposedPorts: [], volumes: [], labels: {} },
  }
}

/** Builds the images of `services` (`pier build`), once per image name. */
export async function buildServices(ctx: Context, project: Project, services: string[], buildArgs?: Record<string, string>, options: { noCache?: boolean } = {}): Promise<Record<string, Image>> {
  const builds = new Map<string, Promise<Image>>()
  const out: Record<string, Image> = {}
  for (const name of services) {
    const service = project.services[name]
    const ref = builtImageName(project, service)
    if (!builds.has(ref)) builds.set(ref, buildService(ctx, project, service, buildArgs, options))
    out[name] = await builds.get(ref)!
  }
  return out
}

/** Builds one service's image on the engine, its log to the reporter, named as Compose names it. */
export async function buildService(ctx: Context, project: Project, service: Service, buildArgs?: Record<string, string>, options: { noCache?: boolean } = {}): Promise<Image> {
  const build = service.build
  if (!build) throw new PlanError('invalid', `service "${service.name}" has no build section`)
  if (/^[a-z]+:\/\/|^git@/.test(build.context)) throw new EngineError('unsupported', `service "${service.name}": a remote build context (${build.context}) is not supported; clone it and give a directory`)
  const args = Object.fromEntries(Object.entries({ ...build.args, ...buildArgs }).filter((e): e is [string, string] => e[1] !== null && e[1] !== undefined))
  // Named contexts, network, shm_size, extra_hosts, secrets (build-options.ts); a `service:` context's image is built first.
  const { options: more, needs } = buildOptions(project, service, (s) => builtImageName(project, s))
  for (const name of needs) if (!(await ctx.engine.inspectImage(builtImageName(project, project.services[name])))) await buildService(ctx, project, project.services[name], buildArgs, options)
  info(ctx, `Building ${service.name}`)
  const image = await ctx.engine
    .buildImage(
      {
        context: build.context,
        ...(build.dockerfile_inline !== undefined ? { dockerfileInline: build.dockerfile_inline } : { dockerfile: build.dockerfile ?? 'Dockerfile' }),
        args,
        labels: build.labels ?? {},
        ...(build.target ? { target: build.target } : {}),
        ...(options.noCache ? { noCache: true } : {}),
        tags: [builtImageName(project, service), ...(build.tags ?? [])],
        ...more,
      },
      { output: (line) => ctx.reporter?.buildOutput?.(service.name, line) },
    )
    .catch((err: Error) => {
      const code = err instanceof PierError ? (err.code as ConstructorParameters<typeof EngineError>[0]) : 'runtime'
      throw new EngineError(code, `building service "${service.name}": ${err.message}`, { cause: err })
    })
  info(ctx, `Service ${service.name}  Built`)
  return image
}

import type { Engine, Image } from '../engine/engine.js'
import { EngineError } from '../engine/errors.js'
import { PlanError } from '../planner/errors.js'
import type { Project, Service } from '../spec/project.js'
import type { ProgressMode } from './progress.js'

/** The name a built service image gets: its `image:`, else `<project>-<service>` as Compose names it. */
export function builtImageName(project: Project, service: Service): string {
  return service.image ?? `${project.name}-${service.name}`
}

/**
 * Builds the images of `services`, once per image name: services that share
 * an `image:` and a build (a YAML anchor, typically) share one build.
 */
export async function buildServices(engine: Engine, project: Project, services: Service[], options: { progress: ProgressMode; args?: Record<string, string> }): Promise<Record<string, Image>> {
  const builds = new Map<string, Promise<Image>>()
  const out: Record<string, Image> = {}
  for (const service of services) {
    const name = builtImageName(project, service)
    if (!builds.has(name)) builds.set(name, buildService(engine, project, service, options))
    out[service.name] = await builds.get(name)!
  }
  return out
}

/**
 * Builds a service's image on the engine, its log on standard error (each
 * line prefixed with the service), and names it as Compose does.
 */
export async function buildService(engine: Engine, project: Project, service: Service, options: { progress: ProgressMode; args?: Record<string, string> }): Promise<Image> {
  const build = service.build
  if (!build) throw new PlanError('invalid', `service "${service.name}" has no build section`)
  if (!engine.buildImage) throw new EngineError('unsupported', 'this engine cannot build images')
  if (/^[a-z]+:\/\/|^git@/.test(build.context)) throw new EngineError('unsupported', `service "${service.name}": a remote build context (${build.context}) is not supported; clone it and give a directory`)
  const args = Object.fromEntries(Object.entries({ ...build.args, ...options.args }).filter((e): e is [string, string] => e[1] !== null && e[1] !== undefined))
  const name = builtImageName(project, service)
  const quiet = options.progress === 'quiet'
  if (!quiet) process.stderr.write(`Building ${service.name}\n`)
  const image = await engine.buildImage(
    {
      context: build.context,
      ...(build.dockerfile_inline !== undefined ? { dockerfileInline: build.dockerfile_inline } : { dockerfile: build.dockerfile ?? 'Dockerfile' }),
      args,
      labels: build.labels ?? {},
      ...(build.target ? { target: build.target } : {}),
      tags: [name, ...(build.tags ?? [])],
    },
    { output: (line) => (quiet ? undefined : process.stderr.write(`${service.name}  ${line}\n`)) },
  ).catch((err: Error) => {
    throw new EngineError('runtime', `building service "${service.name}": ${err.message}`)
  })
  if (!quiet) process.stderr.write(`Service ${service.name}  Built\n`)
  return image
}

import type { Container, Image, ImageChanges } from '../engine/engine.js'
import { eraseCredentials, serverKey, storeCredentials } from '../engine/index.js'
import { UsageError } from '../errors.js'
import { LABEL } from '../labels.js'
import type { Project } from '../spec/project.js'
import { containersOf } from './containers.js'
import type { Context } from './context.js'

/**
 * The image commands that start from a project's service or from a
 * registry: `commit` and `export` (Compose's: replica `--index` of a
 * service, running or stopped), `login`/`logout` and `search`. The engine
 * does the work; this layer finds the container and keeps the credentials.
 */

/** Replica `index` (default 1) of `service`, stopped or not; one line when there is none. */
export async function serviceContainer(ctx: Context, project: Project, service: string, index = 1): Promise<Container> {
  const containers = await containersOf(ctx, project, [service], { all: true, oneOffs: false })
  const target = containers.find((c) => c.labels[LABEL.number] === String(index))
  if (!target) throw new UsageError(`service "${service}" has no container${index > 1 ? ` with index ${index}` : ''} in project ${project.name}: create it with "pier up -d ${service}"`)
  return target
}

export interface CommitOptions extends ImageChanges {
  index?: number
  /** Pause the container meanwhile (default true, as Compose). */
  pause?: boolean
}

/** `pier commit SERVICE [REF]`: an image of the container's changes on its image. */
export async function commitService(ctx: Context, project: Project, service: string, ref: string | undefined, options: CommitOptions = {}): Promise<Image> {
  const { index, ...rest } = options
  const container = await serviceContainer(ctx, project, service, index)
  return ctx.engine.commitContainer(container.id, { ...rest, ...(ref ? { tag: ref } : {}) })
}

/** `pier export SERVICE`: the container's filesystem as a tar stream. */
export async function exportService(ctx: Context, project: Project, service: string, options: { index?: number } = {}): Promise<NodeJS.ReadableStream> {
  const container = await serviceContainer(ctx, project, service, options.index)
  return ctx.engine.exportContainer(container.id)
}

/** Docker Hub, when `pier login` names no server (as `docker login`). */
export const DEFAULT_SERVER = 'docker.io'

/**
 * `pier login`: the registry (through the engine) checks the credentials
 * first; only accepted ones are saved, where the docker CLI saves them.
 */
export async function login(ctx: Context, server: string | undefined, credentials: { username: string; password: string }): Promise<{ server: string; helper?: string; file: string }> {
  const registry = server ? serverKey(server) : DEFAULT_SERVER
  if (!credentials.username) throw new UsageError('login needs a user name: give -u USER')
  if (!credentials.password) throw new UsageError('login needs a password: give --password-stdin (or -p PASSWORD)')
  await ctx.engine.checkLogin(registry === serverKey(DEFAULT_SERVER) ? DEFAULT_SERVER : registry, credentials)
  return { server: serverKey(registry), ...storeCredentials(registry, credentials) }
}

/** `pier logout`: false when nothing was stored for the server. */
export function logout(server: string | undefined): { server: string; removed: boolean } {
  const registry = server ?? DEFAULT_SERVER
  return { server: serverKey(registry), removed: eraseCredentials(registry) }
}

/**
 * `pier search`: the repositories of a registry's catalog whose names hold
 * `term`. The registry is `--registry HOST`, or the first part of
 * `HOST/TERM`; Docker Hub has no catalog pier can read, so none is assumed.
 */
export async function search(ctx: Context, term: string, options: { registry?: string; limit?: number } = {}): Promise<string[]> {
  let registry = options.registry
  const cut = term.indexOf('/')
  if (!registry && cut > 0 && /[.:]|^localhost$/.test(term.slice(0, cut))) {
    registry = term.slice(0, cut)
    term = term.slice(cut + 1)
  }
  if (!registry) throw new UsageError(`search needs a registry: give --registry HOST or HOST/${term} (Docker Hub's search service is not reachable from pier; it reads a registry's /v2/_catalog)`)
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) throw new UsageError(`invalid --limit "${options.limit}": give a whole number of at least 1`)
  return (await ctx.engine.searchRegistry(registry, term, { limit: options.limit ?? 25 })).map((name) => `${registry}/${name}`)
}

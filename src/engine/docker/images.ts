import type { Readable } from 'node:stream'
import type { BuildSpec, Image, Progress, PullOptions } from '../engine.js'
import { credentialsFor, serverKey } from '../credentials.js'
import { EngineError } from '../errors.js'
import { formatReference, parseReference } from '../reference.js'
import { contextTar } from './build-context.js'
import { codeFor, type DockerClient, jsonLines } from './client.js'
import { imageConfigOf, type RunConfigJson } from '../image-config.js'

interface ImageInspect {
  Id: string
  RepoTags: string[] | null
  RepoDigests: string[] | null
  Os: string
  Architecture: string
  Variant?: string
  Created: string
  Size: number
  RootFS: { Layers?: string[] }
  Config: RunConfigJson | null
}

interface Message {
  status?: string
  id?: string
  progressDetail?: { current?: number; total?: number }
  stream?: string
  error?: string
  errorDetail?: { message?: string }
  aux?: { ID?: string; Digest?: string }
}

const normalized = (tag: string) => {
  try {
    return formatReference(parseReference(tag))
  } catch {
    return tag
  }
}

export function imageOf(i: ImageInspect): Image {
  const c = i.Config ?? {}
  return {
    id: i.Id,
    tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>').map(normalized),
    digests: (i.RepoDigests ?? []).filter((d) => !d.startsWith('<none>')).map(normalized),
    platform: { os: i.Os, architecture: i.Architecture, ...(i.Variant ? { variant: i.Variant } : {}) },
    // Milliseconds, as the embedded engine gives them (Docker's carry nanoseconds).
    created: new Date(i.Created).toISOString(),
    size: i.Size,
    layers: i.RootFS?.Layers ?? [],
    config: imageConfigOf(c),
  }
}

/**
 * X-Registry-Auth for a registry, from the credentials pier and the docker
 * CLI store (credentials.ts: config.json's `auths`, or a credential
 * helper). The header is sent even empty: push requires it.
 */
export function registryAuth(ref: string): string {
  const registry = parseReference(ref).registry
  const found = credentialsFor(registry)
  const auth = found ? { username: found.username, password: found.password, serveraddress: serverKey(registry) } : {}
  // Go's base64.URLEncoding, as the docker CLI sends it: URL-safe, and padded (Podman refuses it unpadded).
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
}

/**
 * Reads a progress stream to its end; an `error` message fails it. In a
 * pull or push (`registry`) every such error is the registry's (refused,
 * unreachable, no credentials).
 */
async function follow(stream: NodeJS.ReadableStream, what: string, progress?: Progress, onMessage?: (m: Message) => void, registry = false): Promise<void> {
  for await (const m of jsonLines<Message>(stream)) {
    if (m.error) throw new EngineError(registry ? 'registry' : codeFor(500, m.error), `${what}: ${m.error}`)
    onMessage?.(m)
    if (!progress || !m.status) continue
    if (m.progressDetail?.current !== undefined) progress({ kind: 'bytes', id: m.id ?? '', status: m.status, current: m.progressDetail.current, ...(m.progressDetail.total ? { total: m.progressDetail.total } : {}) })
    else progress({ kind: 'status', id: m.id ?? '', status: m.status })
  }
}

/** The daemon's 500 on a pull or push is the registry failing (unreachable, refused): said as such. */
function asRegistryError(e: unknown): never {
  if (e instanceof EngineError && e.code === 'runtime') throw new EngineError('registry', e.message, { cause: e })
  throw e
}

export class Images {
  constructor(private readonly client: DockerClient) {}

  async inspect(ref: string): Promise<Image | undefined> {
    try {
      return imageOf(await this.client.json<ImageInspect>('GET', `/images/${encodeURIComponent(ref)}/json`))
    } catch (e) {
      if (e instanceof EngineError && e.code === 'not-found') return undefined
      throw e
    }
  }

  async list(): Promise<Image[]> {
    const summaries = await this.client.json<{ Id: string }[]>('GET', '/images/json')
    const all = await Promise.all(summaries.map((s) => this.inspect(s.Id)))
    return all.filter((i): i is Image => !!i)
  }

  async pull(ref: string, options: PullOptions = {}): Promise<Image> {
    const r = parseReference(ref)
    const from = formatReference({ ...r, tag: undefined, digest: undefined })
    const platform = options.platform ? `${options.platform.os}/${options.platform.architecture}${options.platform.variant ? `/${options.platform.variant}` : ''}` : undefined
    const res = await this.client
      .request('POST', '/images/create', {
        query: { fromImage: from, tag: r.digest ?? r.tag, platform },
        headers: { 'X-Registry-Auth': registryAuth(ref) },
        stream: true,
        what: `pull ${ref}`,
      })
      .catch(asRegistryError)
    await follow(res, `pull ${ref}`, options.progress, undefined, true)
    const image = await this.inspect(formatReference(r))
    if (!image) throw new EngineError('registry', `pull ${ref}: the engine reported success but holds no such image`)
    return image
  }

  async push(ref: string, progress?: Progress): Promise<{ digest: string }> {
    const r = parseReference(ref)
    const res = await this.client
      .request('POST', `/images/${encodeURIComponent(formatReference({ ...r, tag: undefined, digest: undefined }))}/push`, {
        query: { tag: r.tag },
        headers: { 'X-Registry-Auth': registryAuth(ref) },
        stream: true,
        what: `push ${ref}`,
      })
      .catch(asRegistryError)
    let digest = ''
    await follow(res, `push ${ref}`, progress, (m) => {
      if (m.aux?.Digest) digest = m.aux.Digest
    }, true)
    return { digest }
  }

  /** POST /images/load; the archive's images are the ones the daemon says it loaded. */
  async load(archive: NodeJS.ReadableStream, progress?: Progress): Promise<Image[]> {
    const res = await this.client.request('POST', '/images/load', { body: archive as Readable, query: { quiet: false }, what: 'load' })
    const loaded: string[] = []
    await follow(res, 'load', progress, (m) => {
      const hit = /^Loaded image(?: ID)?: (\S+)/.exec(m.stream ?? '')
      if (hit) loaded.push(hit[1])
    })
    const images = new Map<string, Image>()
    for (const ref of loaded) {
      const i = await this.inspect(ref)
      if (i) images.set(i.id, i)
    }
    return [...images.values()]
  }

  async save(refs: string[], out: NodeJS.WritableStream): Promise<void> {
    const res = await this.client.request('GET', '/images/get', { query: { names: refs }, stream: true, what: `save ${refs.join(' ')}` })
    await new Promise<void>((resolve, reject) => {
      res.on('error', reject)
      out.on('error', reject)
      out.on('finish', resolve)
      res.pipe(out)
    })
  }

  async tag(source: string, target: string): Promise<void> {
    const r = parseReference(target)
    await this.client.call('POST', `/images/${encodeURIComponent(source)}/tag`, { query: { repo: formatReference({ ...r, tag: undefined, digest: undefined }), tag: r.tag }, what: `tag ${source}` })
  }

  async remove(ref: string, force = false): Promise<{ untagged: string[]; deleted: string[] }> {
    const items = await this.client.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${encodeURIComponent(ref)}`, { query: { force }, what: `image ${ref}` })
    return { untagged: items.flatMap((i) => (i.Untagged ? [normalized(i.Untagged)] : [])), deleted: items.flatMap((i) => (i.Deleted ? [i.Deleted] : [])) }
  }

  /** POST /build (the classic builder) with a tar of the context; see build-context.ts for what is sent. */
  async build(spec: BuildSpec, output: (line: string) => void = () => {}): Promise<Image> {
    // The classic builder (POST /build) has no named contexts and no secret mounts: said before anything is sent.
    if (spec.additionalContexts && Object.keys(spec.additionalContexts).length) throw new EngineError('unsupported', 'build: additional_contexts need BuildKit, which the docker engine driver does not speak (it uses POST /build): use the embedded engine')
    if (spec.secrets && Object.keys(spec.secrets).length) throw new EngineError('unsupported', 'build: build secrets need BuildKit, which the docker engine driver does not speak (it uses POST /build): use the embedded engine')
    const { tar, dockerfile } = await contextTar(spec)
    const res = await this.client.request('POST', '/build', {
      body: tar,
      query: {
        t: spec.tags,
        dockerfile,
        buildargs: JSON.stringify(spec.args),
        labels: JSON.stringify(spec.labels),
        target: spec.target,
        rm: true,
        forcerm: true,
        networkmode: spec.network,
        shmsize: spec.shmSize,
        extrahosts: Object.entries(spec.extraHosts ?? {}).flatMap(([host, addresses]) => addresses.map((a) => `${host}:${a}`)),
      },
      headers: { 'X-Registry-Config': Buffer.from('{}').toString('base64') },
      stream: true,
      what: 'build',
    })
    let id = ''
    let rest = ''
    await follow(res, 'build', undefined, (m) => {
      if (m.aux?.ID) id = m.aux.ID
      if (m.stream) {
        rest += m.stream
        const parts = rest.split('\n')
        rest = parts.pop()!
        for (const p of parts) output(p)
      }
    })
    if (rest) output(rest)
    const image = id ? await this.inspect(id) : spec.tags[0] ? await this.inspect(spec.tags[0]) : undefined
    if (!image) throw new EngineError('runtime', 'build: the engine reported no image')
    return image
  }
}


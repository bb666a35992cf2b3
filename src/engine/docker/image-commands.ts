import type { Readable } from 'node:stream'
import type { HistoryEntry, Image, ImageChanges, PruneReport } from '../engine.js'
import { EngineError } from '../errors.js'
import { familiarName, formatReference, parseReference } from '../reference.js'
import { RegistryClient } from '../registry-client.js'
import { type DockerClient, jsonLines } from './client.js'

/** Podman's compat API gives bare hex IDs where dockerd gives `sha256:…`: one form for callers. */
const imageId = (id: string) => (/^[a-f0-9]{64}$/.test(id) ? `sha256:${id}` : id)

/** `repo` and `tag` query parameters of a reference (commit, import). */
function repoTag(ref?: string): { repo?: string; tag?: string } {
  if (!ref) return {}
  const r = parseReference(ref)
  if (r.digest) throw new EngineError('invalid', `cannot name an image with a digest: ${ref}`)
  return { repo: formatReference({ ...r, tag: undefined, digest: undefined }), tag: r.tag }
}

/**
 * The image commands of the Docker workflow over the Engine API: history,
 * import, commit, export, prune (images and the build cache), and login's
 * check (POST /auth: the daemon asks the registry, as `docker login` has
 * it do). Registry search reads the registry's catalog from this machine:
 * the daemon's /images/search speaks only Docker Hub's search API.
 */
export class ImageCommands {
  constructor(
    private readonly client: DockerClient,
    private readonly inspect: (ref: string) => Promise<Image | undefined>,
  ) {}

  async history(ref: string): Promise<HistoryEntry[]> {
    const items = await this.client.json<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }[]>('GET', `/images/${encodeURIComponent(ref)}/history`, { what: `image ${ref}` })
    return items.map((h) => ({
      ...(h.Id && h.Id !== '<missing>' ? { id: imageId(h.Id) } : {}),
      ...(h.Created ? { created: new Date(h.Created * 1000).toISOString() } : {}),
      createdBy: h.CreatedBy ?? '',
      size: h.Size ?? 0,
      comment: h.Comment ?? '',
      tags: (h.Tags ?? []).filter((t) => t !== '<none>:<none>').map((t) => familiarName(formatReference(parseReference(t)))),
    }))
  }

  /** POST /images/create?fromSrc=-: the tar is the body; the daemon answers with the new image's ID as a status. */
  async import(archive: NodeJS.ReadableStream, options: ImageChanges & { tag?: string }): Promise<Image> {
    const res = await this.client.request('POST', '/images/create', {
      query: { fromSrc: '-', ...repoTag(options.tag), message: options.message, changes: options.changes ?? [] },
      body: archive as Readable,
      headers: { 'Content-Type': 'application/x-tar' },
      stream: true,
      what: 'import',
    })
    let id = ''
    for await (const m of jsonLines<{ status?: string; error?: string }>(res)) {
      if (m.error) throw new EngineError('invalid', `import: ${m.error}`)
      if (m.status?.startsWith('sha256:')) id = m.status.trim()
      // Podman answers with the bare ID in `id` and no status of that form.
      else if (!id && /^[a-f0-9]{64}$/.test((m as { id?: string }).id ?? '')) id = `sha256:${(m as { id?: string }).id}`
    }
    let image = id ? await this.inspect(id) : undefined
    if (!image) throw new EngineError('runtime', 'import: the engine reported no image')
    // Podman's compat import ignores `tag`: the name is given afterwards where it did not stick.
    if (options.tag && !image.tags.includes(formatReference(parseReference(options.tag)))) {
      const { repo, tag } = repoTag(options.tag)
      await this.client.call('POST', `/images/${encodeURIComponent(image.id)}/tag`, { query: { repo, tag }, what: `image ${image.id}` })
      image = (await this.inspect(image.id)) ?? image
    }
    return image
  }

  async commit(container: string, options: ImageChanges & { tag?: string; pause?: boolean }): Promise<Image> {
    const { Id } = await this.client.json<{ Id: string }>('POST', '/commit', {
      query: { container, ...repoTag(options.tag), comment: options.message, author: options.author, pause: options.pause !== false, changes: options.changes ?? [] },
      body: {},
      what: `container ${container}`,
    })
    const image = await this.inspect(Id)
    if (!image) throw new EngineError('runtime', `commit ${container}: the engine reported no image`)
    return image
  }

  export(container: string): Promise<NodeJS.ReadableStream> {
    return this.client.request('GET', `/containers/${encodeURIComponent(container)}/export`, { stream: true, what: `container ${container}` })
  }

  async prune(all: boolean): Promise<PruneReport> {
    const r = await this.client.json<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>('POST', '/images/prune', {
      query: { filters: JSON.stringify({ dangling: [all ? 'false' : 'true'] }) },
    })
    const items = r.ImagesDeleted ?? []
    return {
      untagged: items.flatMap((i) => (i.Untagged ? [familiarName(formatReference(parseReference(i.Untagged)))] : [])),
      deleted: items.flatMap((i) => (i.Deleted ? [imageId(i.Deleted)] : [])),
      reclaimed: r.SpaceReclaimed ?? 0,
    }
  }

  async pruneBuildCache(): Promise<{ entries: number; reclaimed: number }> {
    let r: { CachesDeleted: string[] | null; SpaceReclaimed: number }
    try {
      r = await this.client.json('POST', '/build/prune', { query: { all: true } })
    } catch (e) {
      // Podman's compat API has no build cache endpoint: its builds cache in images, which `image prune` removes.
      if (e instanceof EngineError && e.code === 'not-found') throw new EngineError('unsupported', 'this engine has no build cache API (POST /build/prune; Podman keeps its build cache as images): use "pier image prune" instead', { cause: e })
      throw e
    }
    return { entries: (r.CachesDeleted ?? []).length, reclaimed: r.SpaceReclaimed ?? 0 }
  }

  async checkLogin(server: string, credentials: { username: string; password: string }): Promise<void> {
    try {
      await this.client.json('POST', '/auth', { body: { username: credentials.username, password: credentials.password, serveraddress: server } })
    } catch (e) {
      if (e instanceof EngineError) throw new EngineError('registry', `registry ${server} refused the login: ${e.message}`, { cause: e })
      throw e
    }
  }

  async search(registry: string, term: string, limit = 25): Promise<string[]> {
    return (await new RegistryClient(registry, '').catalog()).filter((n) => n.includes(term)).slice(0, limit)
  }
}

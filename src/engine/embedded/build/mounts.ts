import { lstat, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { EngineError } from '../../errors.js'
import { mountRootfs, unmountRootfs } from '../containers/rootfs.js'
import { resolveInRoot } from '../fs/resolve.js'
import type { Root } from '../root.js'
import type { Instruction } from './dockerfile.js'
import type { RunMount } from './run.js'

/**
 * Root filesystems of other stages and images, for `COPY --from` and
 * `RUN --mount=from=`: each an overlay of its layers, mounted once per
 * build on first use and unmounted when the build ends. Nothing writes to
 * them (they are read through resolveInRoot, or bind-mounted read-only).
 */
export class Views {
  // Promises: stages built side by side may ask for the same view at once, and both wait for the one mount.
  private readonly mounted = new Map<string, Promise<string>>()
  private readonly dir: string
  constructor(root: Root) {
    this.dir = root.temp('build-views')
  }

  of(id: string, layers: string[]): Promise<string> {
    const known = this.mounted.get(id)
    if (known) return known
    const base = join(this.dir, String(this.mounted.size))
    const target = join(base, 'rootfs')
    const mounting = mountRootfs(layers, join(base, 'upper'), join(base, 'work'), target).then(() => target)
    this.mounted.set(id, mounting)
    return mounting
  }

  async close(): Promise<void> {
    // Nothing mounted (every step cached): nothing was made either.
    if (this.mounted.size === 0) return
    for (const mounting of this.mounted.values()) {
      const target = await mounting.catch(() => undefined)
      if (target) await unmountRootfs(target).catch(() => undefined)
    }
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** The flags pier's builder takes, per instruction; any other is refused by name, not ignored. */
const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  RUN: ['mount'],
  COPY: ['from', 'chown', 'chmod', 'link'],
  ADD: ['chown', 'chmod', 'link'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
}

export function checkFlags(i: Instruction): void {
  for (const [name, value] of i.flagList) {
    if (!(FLAGS[i.keyword] ?? []).includes(name)) throw new EngineError('unsupported', `Dockerfile line ${i.line}: ${i.keyword} --${name} is not supported by pier's builder`)
    if (name === 'mount') {
      const type = mountOptions(value).type ?? 'bind'
      if (type !== 'cache' && type !== 'bind' && type !== 'secret') throw new EngineError('unsupported', `Dockerfile line ${i.line}: RUN --mount=type=${type} is not supported by pier's builder (type=cache, bind and secret are)`)
    }
  }
}

export interface MountRequest {
  type: 'cache' | 'bind' | 'secret'
  target: string
  /** bind: the path in the context or in `from`. */
  source: string
  from?: string
  /** cache: the directory's name, shared by the RUNs that give it. */
  id: string
  readOnly: boolean
  /** secret: fail when the build has no such secret (else the mount is left out, as BuildKit does). */
  required?: boolean
}

export function mountRequests(i: Instruction, word: (s: string) => string): MountRequest[] {
  return i.flagList
    .filter(([name]) => name === 'mount')
    .map(([, value]) => {
      const o = mountOptions(word(value))
      const type = (o.type ?? 'bind') as MountRequest['type']
      if (type === 'secret') {
        const id = o.id ?? (o.target ?? o.dst ?? '').split('/').pop()
        if (!id) throw new EngineError('invalid', `Dockerfile line ${i.line}: RUN --mount=${value} names no secret (id=…)`)
        return { type, target: o.target ?? o.dst ?? `/run/secrets/${id}`, source: '', id, readOnly: true, required: o.required === 'true' || o.required === 'required' }
      }
      const target = o.target ?? o.dst ?? o.destination
      if (!target) throw new EngineError('invalid', `Dockerfile line ${i.line}: RUN --mount=${value} has no target`)
      const readOnly = type === 'bind' ? !('rw' in o || 'readwrite' in o) : 'ro' in o || 'readonly' in o
      return { type, target, source: o.source ?? o.src ?? '/', ...(o.from ? { from: o.from } : {}), id: o.id ?? target, readOnly }
    })
}

function mountOptions(value: string): Record<string, string> {
  return Object.fromEntries(value.split(',').map((kv) => [kv.split('=')[0].trim(), kv.slice(kv.indexOf('=') + 1).trim()]))
}

/**
 * A request as the host path runc bind-mounts: a cache directory under the
 * engine root, or a path resolved inside `root` (the context, or the view
 * of the stage or image it names), so a link in it never leads out.
 */
export async function runMount(request: MountRequest, root: string, cacheDir: string, line: number): Promise<RunMount> {
  if (request.type === 'cache') {
    await mkdir(cacheDir, { recursive: true })
    return { source: cacheDir, target: request.target, readOnly: request.readOnly }
  }
  const source = await resolveInRoot(root, request.source, { what: 'the build context' })
  if (!(await lstat(source).catch(() => undefined))) throw new EngineError('not-found', `Dockerfile line ${line}: RUN --mount source ${request.source} not found`)
  return { source, target: request.target, readOnly: request.readOnly }
}

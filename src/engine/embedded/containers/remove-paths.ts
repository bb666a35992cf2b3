import { rm } from 'node:fs/promises'
import { posix } from 'node:path'
import { EngineError } from '../../errors.js'
import type { Root } from '../root.js'
import { resolveInRoot } from '../fs/resolve.js'
import { mountRootfs } from './rootfs.js'
import { files, readJson, type ContainerRecord } from './state.js'

/**
 * Paths removed from a container's filesystem by the engine itself, so the
 * image needs no `rm` and the container need not run (its root is mounted
 * as `copyTo` mounts it; overlayfs records the deletes as whiteouts). Each
 * path's parent is resolved inside the container's root, as the container
 * would resolve it; the last component is removed itself, a link never
 * followed. A path already absent is no error.
 */
export async function removePaths(root: Root, id: string, paths: string[]): Promise<void> {
  const f = files(root.path('containers', id))
  const record = await readJson<ContainerRecord>(f.record)
  if (!record) throw new EngineError('not-found', `no such container: ${id}`)
  await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
  for (const path of paths) {
    const base = posix.basename(path)
    if (!path.startsWith('/') || base === '' || base === '.' || base === '..') throw new EngineError('invalid', `cannot remove "${path}" from the container: give an absolute path below its root`)
    const parent = await resolveInRoot(f.rootfs, posix.dirname(path))
    await rm(`${parent}/${base}`, { recursive: true, force: true })
  }
}

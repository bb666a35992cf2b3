import { constants, existsSync } from 'node:fs'
import { lstat, open, readdir, readlink } from 'node:fs/promises'
import { PassThrough, type Readable } from 'node:stream'
import tar from 'tar-stream'
import type { ContainerSpec, Image, ImageChanges } from '../engine.js'
import type { Config } from './build/config.js'
import { layerTar, upperEntries } from './build/layer.js'
import type { ContainerManager } from './containers/manager.js'
import { isMounted, mountRootfs, unmountRootfs } from './containers/rootfs.js'
import { files } from './containers/state.js'
import { addLayerImage } from './images/new-image.js'
import type { ImageStore } from './images/store.js'
import { addTarEntry } from './tar-entry.js'

/** What runc mounts over a container's rootfs (empty mount points it made are not the container's doing). */
const RUNTIME_POINTS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf']

/**
 * `docker commit`: the container's upper directory (what it changed over
 * its image: files, whiteouts for deletions) as one new layer on the
 * image's, with `-c` changes and a history entry naming its command. A
 * running container is paused meanwhile (unless `pause: false`), so the
 * layer is one moment's state. Volumes and mounts are not in it, as in Docker.
 */
export async function commitContainer(images: ImageStore, containers: ContainerManager, id: string, options: ImageChanges & { tag?: string; pause?: boolean }): Promise<Image> {
  const record = await containers.records.require(id)
  const state = (await containers.inspect(record.id))?.state
  const pause = options.pause !== false && state === 'running'
  const upper = files(containers.records.dir(record.id)).upper
  let layer: { digest: string; size: number } | undefined
  if (pause) await containers.pause(record.id)
  try {
    const entries = existsSync(upper) ? await upperEntries(upper, [...RUNTIME_POINTS, ...record.spec.mounts.map((m) => m.target.replace(/^\/+/, ''))]) : []
    if (entries.length) layer = await images.blobs.put(layerTar(entries))
  } finally {
    if (pause) await containers.unpause(record.id)
  }
  const base = await images.require(record.image)
  const runConfig = containerConfig((await images.config(base)).config ?? {}, record.spec)
  // History: an empty "created by", as dockerd writes for a commit (the docker CLI sends it no command).
  return addLayerImage(images, { base, ...(layer ? { layer } : {}), createdBy: '', runConfig, ...(options.tag ? { tag: options.tag } : {}) }, options)
}

/**
 * The committed image runs what the container ran, as Docker's commit
 * gives it the container's configuration: its environment, working
 * directory and user, and its command (the image's ENTRYPOINT kept when the
 * command starts with it). Compose's labels stay on the container.
 */
function containerConfig(base: Config, spec: ContainerSpec): Config {
  const config: Config = { ...base, Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) }
  if (spec.workingDir) config.WorkingDir = spec.workingDir
  if (spec.user) config.User = spec.user
  const entrypoint = base.Entrypoint ?? []
  if (entrypoint.length && entrypoint.every((a, i) => spec.argv[i] === a)) {
    config.Cmd = spec.argv.slice(entrypoint.length)
  } else {
    config.Entrypoint = null
    config.Cmd = spec.argv
  }
  return config
}

/**
 * `docker export`: the container's filesystem as its processes see it
 * (image layers and its changes, through the overlay), volumes left out,
 * as a tar stream; hard links stay links, devices and fifos are kept,
 * sockets skipped. The rootfs is mounted for the read if it was not, and
 * unmounted after.
 */
export async function exportContainer(containers: ContainerManager, id: string): Promise<Readable> {
  const record = await containers.records.require(id)
  const f = files(containers.records.dir(record.id))
  const mountedHere = !(await isMounted(f.rootfs))
  await mountRootfs(record.layers, f.upper, f.work, f.rootfs)
  const pack = tar.pack()
  const out = new PassThrough()
  pack.pipe(out)
  pack.on('error', () => undefined)
  void (async () => {
    try {
      await packTree(pack, f.rootfs)
      pack.finalize()
    } catch (err) {
      out.destroy(err as Error)
    } finally {
      if (mountedHere && (await containers.inspect(record.id))?.state !== 'running') await unmountRootfs(f.rootfs).catch(() => undefined)
    }
  })()
  return out
}

async function packTree(pack: tar.Pack, root: string): Promise<void> {
  const seen = new Map<string, string>()
  const walk = async (dir: string, prefix: string) => {
    for (const child of (await readdir(dir)).sort()) {
      const path = `${dir}/${child}`
      const name = `${prefix}${child}`
      const s = await lstat(path)
      const header = { name, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: s.mtime }
      if (s.isDirectory()) {
        await addTarEntry(pack, { ...header, type: 'directory' })
        await walk(path, `${name}/`)
      } else if (s.isSymbolicLink()) {
        await addTarEntry(pack, { ...header, type: 'symlink', linkname: await readlink(path) })
      } else if (s.isFile()) {
        const inode = `${s.dev}:${s.ino}`
        const first = s.nlink > 1 ? seen.get(inode) : undefined
        if (first) {
          await addTarEntry(pack, { ...header, type: 'link', linkname: first })
          continue
        }
        if (s.nlink > 1) seen.set(inode, name)
        await addTarEntry(pack, { ...header, type: 'file', size: s.size }, (await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)).createReadStream())
      } else if (s.isCharacterDevice() || s.isBlockDevice()) {
        const devmajor = Number((BigInt(s.rdev) >> 8n) & 0xfffn)
        const devminor = Number((BigInt(s.rdev) & 0xffn) | ((BigInt(s.rdev) >> 12n) & 0xfff00n))
        await addTarEntry(pack, { ...header, type: s.isCharacterDevice() ? 'character-device' : 'block-device', devmajor, devminor })
      } else if (s.isFIFO()) {
        await addTarEntry(pack, { ...header, type: 'fifo' })
      }
      // Sockets belong to a running process, not to a filesystem image: left out, as tar does.
    }
  }
  await walk(root, '')
}

import { createHash } from 'node:crypto'
import { readFileSync, realpathSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'

/**
 * Test images built from Debian's busybox-static (/bin/busybox), packed the
 * way `docker save` and OCI tools pack them. Nothing comes from a registry.
 */

export const BUSYBOX = '/bin/busybox'
const APPLETS = ['sh', 'ls', 'cat', 'echo', 'true', 'false', 'sleep', 'wget', 'httpd', 'nc', 'id', 'env', 'ps', 'kill', 'mkdir', 'date', 'hostname', 'grep', 'head', 'tr', 'dd', 'pwd', 'touch', 'test', 'ip', 'ifconfig', 'route', 'ping', 'seq', 'wc', 'sort', 'timeout', 'rm']

export interface TarEntry {
  name: string
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'
  content?: Buffer | string
  linkname?: string
  mode?: number
  uid?: number
  gid?: number
}

export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  pack.on('data', (c) => chunks.push(c as Buffer))
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve)
    pack.on('error', reject)
  })
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content)
    const type = e.type ?? 'file'
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(type === 'file' ? { size: content?.length ?? 0 } : {}),
    }
    await new Promise<void>((resolve, reject) => pack.entry(header as tar.Header, type === 'file' ? content ?? Buffer.alloc(0) : Buffer.alloc(0), (err) => (err ? reject(err) : resolve())))
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

export function digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/** The busybox root filesystem as one layer: the binary, its applets as symlinks, passwd and group. */
export function busyboxLayer(): Promise<Buffer> {
  return tarOf([
    { name: 'bin', type: 'directory' },
    { name: 'bin/busybox', content: readFileSync(BUSYBOX), mode: 0o755 },
    ...APPLETS.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'etc', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
    { name: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\n' },
    { name: 'etc/nsswitch.conf', content: 'hosts: files dns\n' },
    { name: 'tmp', type: 'directory', mode: 0o1777 },
    { name: 'root', type: 'directory', mode: 0o700 },
  ])
}

/**
 * The host's getent with the C library it needs, added on top of busybox:
 * `getent ahosts NAME` prints every address glibc resolves for a name.
 */
export function getentLayer(): Promise<Buffer> {
  const file = (name: string, path: string) => ({ name, content: readFileSync(realpathSync(path)), mode: 0o755 })
  return tarOf([
    { name: 'usr', type: 'directory' },
    { name: 'usr/bin', type: 'directory' },
    file('usr/bin/getent', '/usr/bin/getent'),
    { name: 'lib', type: 'directory' },
    { name: 'lib/x86_64-linux-gnu', type: 'directory' },
    file('lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'),
    { name: 'lib64', type: 'directory' },
    file('lib64/ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2'),
  ])
}

export interface TestImage {
  tags: string[]
  layers: Buffer[]
  config: Record<string, unknown>
}

export function configFor(layers: Buffer[], config: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architecture: 'amd64',
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'], ...config },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => digest(l)) },
  }
}

export async function busyboxImage(tags = ['busybox:latest'], config: Record<string, unknown> = {}): Promise<TestImage> {
  const layers = [await busyboxLayer()]
  return { tags, layers, config: configFor(layers, config) }
}

/** A `docker save` archive: manifest.json, <config>.json, <id>/layer.tar. */
export async function dockerArchive(images: TestImage[]): Promise<Buffer> {
  const entries: TarEntry[] = []
  const manifest = []
  for (const img of images) {
    const configJson = JSON.stringify(img.config)
    const configName = `${digest(configJson).slice(7)}.json`
    entries.push({ name: configName, content: configJson })
    const layerNames = img.layers.map((l) => `${digest(l).slice(7)}/layer.tar`)
    img.layers.forEach((l, i) => entries.push({ name: layerNames[i], content: l }))
    manifest.push({ Config: configName, RepoTags: img.tags, Layers: layerNames })
  }
  entries.push({ name: 'manifest.json', content: JSON.stringify(manifest) })
  return tarOf(entries)
}

/** An OCI image layout in a tar, layers gzip-compressed, the tag in the index annotations. */
export async function ociArchive(img: TestImage, options: { corruptLayer?: boolean } = {}): Promise<Buffer> {
  const blobs: TarEntry[] = []
  const put = (data: Buffer | string) => {
    const d = digest(data)
    blobs.push({ name: `blobs/sha256/${d.slice(7)}`, content: data })
    return { digest: d, size: Buffer.byteLength(data) }
  }
  const layers = img.layers.map((l) => {
    const gz = gzipSync(l)
    const desc = put(gz)
    if (options.corruptLayer) blobs[blobs.length - 1].content = Buffer.concat([gz.subarray(0, gz.length - 1), Buffer.from([gz[gz.length - 1] ^ 1])])
    return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...desc }
  })
  const config = put(JSON.stringify(img.config))
  const manifest = put(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers }))
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'io.containerd.image.name': img.tags[0] } }],
  }
  return tarOf([{ name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', content: JSON.stringify(index) }, { name: 'blobs', type: 'directory' }, ...blobs])
}

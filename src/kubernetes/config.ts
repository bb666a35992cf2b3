import { readFile } from 'node:fs/promises'
import { posix } from 'node:path'
import type { FileObject, FileReference, Service } from '../spec/project.js'
import { metadata, projectLabels, type Context } from './context.js'
import { dnsLabel } from './names.js'
import type { Manifest, PodVolume, VolumeMount } from './types.js'
import { ConversionError } from './warnings.js'

/**
 * `secrets:` as Secrets and `configs:` as ConfigMaps, with the content read
 * now from where Compose reads it (a file, a variable of the project's
 * environment, or inline `content`), and a service's references as files
 * mounted where Compose puts them: secrets under /run/secrets/, configs at
 * /<name>, unless a target says otherwise. An external one is an object that
 * already exists under its name.
 */

type Kind = 'secret' | 'config'

/** The Secrets or ConfigMaps of the objects named in `used`. */
export async function fileObjects(ctx: Context, kind: Kind, used: Set<string>): Promise<Manifest[]> {
  const objects = kind === 'secret' ? ctx.project.secrets : ctx.project.configs
  const out: Manifest[] = []
  for (const [key, object] of Object.entries(objects)) {
    if (!used.has(key)) continue
    for (const field of ['driver', 'driver_opts', 'template_driver'] as const) {
      if (object[field] !== undefined) ctx.warnings.object(kind, key, field, 'is not converted (the content is read by pier and stored as is)')
    }
    if (object.external) continue
    const name = ctx.names.claim(kind, key, objectName(object))
    const content = await read(ctx, kind, key, object)
    const meta = metadata(ctx, name, projectLabels(ctx), object.labels)
    if (kind === 'secret') out.push({ apiVersion: 'v1', kind: 'Secret', metadata: meta, type: 'Opaque', data: { [dataKey(key)]: content.toString('base64') } })
    else out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, ...(isText(content) ? { data: { [dataKey(key)]: content.toString('utf8') } } : { binaryData: { [dataKey(key)]: content.toString('base64') } }) })
  }
  return out
}

async function read(ctx: Context, kind: Kind, key: string, object: FileObject): Promise<Buffer> {
  if (object.content !== undefined) return Buffer.from(object.content)
  if (object.environment !== undefined) {
    const value = ctx.project.environment[object.environment]
    if (value === undefined) throw new ConversionError(`${kind} "${key}": variable "${object.environment}" is not set: set it, or give the ${kind} a file or content`)
    return Buffer.from(value)
  }
  if (object.file !== undefined) {
    try {
      return await readFile(object.file)
    } catch (err) {
      throw new ConversionError(`${kind} "${key}": cannot read ${object.file}: ${(err as NodeJS.ErrnoException).code ?? err}`)
    }
  }
  throw new ConversionError(`${kind} "${key}" has no file, environment or content to convert`)
}

/** The pod volumes and mounts of a service's secrets or configs: one file each, mounted by subPath at its target. */
export function fileMounts(ctx: Context, service: Service, kind: Kind, container: string): { volumes: PodVolume[]; mounts: VolumeMount[] } {
  const references = (kind === 'secret' ? service.secrets : service.configs) ?? []
  const objects = kind === 'secret' ? ctx.project.secrets : ctx.project.configs
  const volumes: PodVolume[] = []
  const mounts: VolumeMount[] = []
  references.forEach((ref, i) => {
    const object = objects[ref.source]
    if (!object) return
    if (ref.uid !== undefined || ref.gid !== undefined) ctx.warnings.service(service.name, `${kind}s "${ref.source}" uid/gid`, 'is not converted (Kubernetes sets a file owner only pod-wide, with securityContext.fsGroup)')
    const name = dnsLabel(`${container}-${kind}-${i}`)
    const items = [{ key: dataKey(ref.source), path: dataKey(ref.source), ...(ref.mode !== undefined ? { mode: ref.mode } : {}) }]
    volumes.push(kind === 'secret' ? { name, secret: { secretName: objectName(object), items } } : { name, configMap: { name: objectName(object), items } })
    mounts.push({ name, mountPath: target(kind, ref), subPath: dataKey(ref.source), readOnly: true })
  })
  return { volumes, mounts }
}

function target(kind: Kind, ref: FileReference): string {
  const target = ref.target ?? ref.source
  if (posix.isAbsolute(target)) return target
  return kind === 'secret' ? posix.join('/run/secrets', target) : posix.join('/', target)
}

/** The object's Kubernetes name: from its Compose name (`<project>_<key>`, or its `name:`). */
function objectName(object: FileObject): string {
  return dnsLabel(object.name)
}

/** A key of a Secret's or ConfigMap's data: [-._a-zA-Z0-9]+. */
function dataKey(key: string): string {
  return key.replace(/[^-._a-zA-Z0-9]/g, '-')
}

/** Whether the bytes are UTF-8 text (a ConfigMap's `data`) rather than binary (`binaryData`). */
function isText(content: Buffer): boolean {
  return Buffer.from(content.toString('utf8'), 'utf8').equals(content)
}

import type { Cast } from './cast.js'
import { isPlainDict, type Dict } from './data.js'
// `/data/` and `/data/./x/..` are `/data`, as compose-go cleans targets, so mounts compare by place.
import { cleanPath, isPathSource, resolvePath } from './paths.js'
import type { Mount } from './project.js'
import { childPath, type FieldPath } from './source.js'

const PROPAGATION = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']
const CONSISTENCY = ['consistent', 'cached', 'delegated']

/**
 * `volumes` entries in their long form. Short syntax: `TARGET` (an anonymous
 * volume), or `SOURCE:TARGET[:MODES]` where SOURCE is a path when it starts
 * with `.`, `/` or `~` (a bind mount, its missing source created as a
 * directory) and a volume name otherwise; MODES are ro, rw, z, Z, nocopy, a
 * propagation and a consistency, comma-separated.
 */
export function normalizeMounts(value: unknown, path: FieldPath, cast: Cast, workingDir: string): Mount[] {
  if (!Array.isArray(value)) return []
  return value.map((item, i) => {
    const at = childPath(path, i)
    return isPlainDict(item) ? longMount(item, at, cast, workingDir) : shortMount(String(item), at, cast, workingDir)
  })
}

function shortMount(text: string, path: FieldPath, cast: Cast, workingDir: string): Mount {
  const parts = text.split(':')
  if (parts.length === 1) {
    checkTarget(parts[0], path, cast, text)
    return { type: 'volume', target: cleanPath(parts[0]), volume: {} }
  }
  if (parts.length > 3 || parts[0] === '' || parts[1] === '') {
    return cast.fail(path, `invalid volume "${text}": expected SOURCE:TARGET[:MODE] or TARGET`)
  }
  const [source, rawTarget, modeText] = parts
  checkTarget(rawTarget, path, cast, text)
  const target = cleanPath(rawTarget)
  const modes = modeText ? modeText.split(',') : []
  let readOnly = false
  let selinux: 'z' | 'Z' | undefined
  let nocopy = false
  let propagation: string | undefined
  let consistency: string | undefined
  for (const mode of modes) {
    if (mode === 'ro') readOnly = true
    else if (mode === 'rw') readOnly = false
    else if (mode === 'z' || mode === 'Z') selinux = mode
    else if (mode === 'nocopy') nocopy = true
    else if (PROPAGATION.includes(mode)) propagation = mode
    else if (CONSISTENCY.includes(mode)) consistency = mode
    else return cast.fail(path, `invalid volume mode "${mode}" in "${text}": use ro, rw, z, Z, nocopy or a propagation (rprivate, shared, …)`)
  }
  if (isPathSource(source)) {
    const bind: Extract<Mount, { type: 'bind' }>['bind'] = { create_host_path: true }
    if (propagation) bind.propagation = propagation
    if (selinux) bind.selinux = selinux
    const mount: Mount = { type: 'bind', source: resolvePath(workingDir, source), target, bind }
    if (readOnly) mount.read_only = true
    if (consistency) mount.consistency = consistency
    return mount
  }
  const mount: Mount = { type: 'volume', source, target, volume: nocopy ? { nocopy: true } : {} }
  if (readOnly) mount.read_only = true
  if (consistency) mount.consistency = consistency
  return mount
}

function longMount(item: Dict, path: FieldPath, cast: Cast, workingDir: string): Mount {
  const type = String(item.type) as Mount['type']
  const rawTarget = item.target === undefined ? undefined : String(item.target)
  if (rawTarget === undefined || rawTarget === '') return cast.fail(childPath(path, 'target'), `a ${type} mount needs a target (the path inside the container)`)
  checkTarget(rawTarget, childPath(path, 'target'), cast)
  const target = cleanPath(rawTarget)
  const readOnly = cast.bool(item.read_only, childPath(path, 'read_only'))
  const source = item.source === undefined || item.source === '' ? undefined : String(item.source)
  const common = { ...(readOnly ? { read_only: true } : {}), ...(item.consistency !== undefined ? { consistency: String(item.consistency) } : {}) }

  switch (type) {
    case 'bind': {
      if (!source) return cast.fail(childPath(path, 'source'), 'a bind mount needs a source (a path on the host)')
      const b = isPlainDict(item.bind) ? item.bind : {}
      const bind = cast.fields<Extract<Mount, { type: 'bind' }>['bind']>(b, childPath(path, 'bind'), {
        create_host_path: (v, p) => cast.bool(v, p),
        propagation: (v) => String(v),
        selinux: (v) => String(v) as 'z' | 'Z',
        recursive: (v) => String(v),
      })
      return { type, source: resolvePath(workingDir, source), target, ...common, bind }
    }
    case 'volume': {
      const v = isPlainDict(item.volume) ? item.volume : {}
      const volume = cast.fields<Extract<Mount, { type: 'volume' }>['volume']>(v, childPath(path, 'volume'), {
        nocopy: (x, p) => cast.bool(x, p),
        subpath: (x) => String(x),
        labels: (x) => cast.dict(x),
      })
      return { type, ...(source ? { source } : {}), target, ...common, volume }
    }
    case 'tmpfs': {
      if (source) return cast.fail(childPath(path, 'source'), 'a tmpfs mount has no source; remove it')
      const t = isPlainDict(item.tmpfs) ? item.tmpfs : {}
      const tmpfs = cast.fields<Extract<Mount, { type: 'tmpfs' }>['tmpfs']>(t, childPath(path, 'tmpfs'), {
        size: (x, p) => cast.bytes(x, p),
        mode: (x, p) => (typeof x === 'string' && /^0[0-7]+$/.test(x) ? parseInt(x, 8) : cast.int(x, p)),
      })
      return { type, target, ...(readOnly ? { read_only: true } : {}), tmpfs }
    }
    case 'image': {
      if (!source) return cast.fail(childPath(path, 'source'), 'an image mount needs a source (an image reference)')
      const image = cast.fields<{ subpath?: string }>(item.image, childPath(path, 'image'), { subpath: (x) => String(x) })
      return { type, source, target, ...common, image }
    }
    default:
      return { type, ...(source ? { source } : {}), target, ...common } as Mount
  }
}

function checkTarget(target: string, path: FieldPath, cast: Cast, whole?: string): void {
  if (!target.startsWith('/')) {
    cast.fail(path, `invalid volume${whole ? ` "${whole}"` : ''}: the target "${target}" must be an absolute path inside the container`)
  }
}


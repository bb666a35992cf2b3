import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join, posix } from 'node:path'
import type { BuildSpec, ContainerSpec, Image } from '../../engine.js'
import { defaultContainerSpec } from '../../defaults.js'
import { EngineError } from '../../errors.js'
import { hostPlatform } from '../../platform.js'
import { formatReference, parseReference } from '../../reference.js'
import { parseDuration } from '../../../spec/units.js'
import { mountRootfs, unmountRootfs } from '../containers/rootfs.js'
import type { Runtime } from '../containers/runtime.js'
import { hostLimits, runtimeSpec } from '../containers/spec.js'
import { resolveUser } from '../containers/users.js'
import type { ConfigJson } from '../images/oci.js'
import type { ImageStore } from '../images/store.js'
import type { Root } from '../root.js'
import { contextSources, readDockerfile } from './context.js'
import { expand, parseDockerfile, type Instruction } from './dockerfile.js'
import { entryOf, layerTar, treeEntries, upperEntries, type LayerEntry } from './layer.js'

export interface BuildContext {
  root: Root
  images: ImageStore
  runtime: Runtime
  /** Makes a base image present (pulls it). */
  pull: (ref: string) => Promise<unknown>
  /** Each line of build output (steps, RUN output). */
  output: (line: string) => void
}

type Layer = { digest: string; diffId: string; size: number; mediaType: string }

/** What the runtime mounts over the rootfs during a RUN; left out of the layer when they are just empty mount points. */
const MOUNT_POINTS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf']

/**
 * Builds an image from a Dockerfile on the embedded engine, daemonless: each
 * step that changes files (COPY, ADD, RUN, WORKDIR) becomes a layer; RUN runs
 * with runc on an overlay of the layers so far, and its upper directory is
 * the layer. No cache: every build runs every step (the images pier builds
 * for projects are small; up builds only images that are missing).
 */
export async function buildImage(ctx: BuildContext, spec: BuildSpec): Promise<Image> {
  const text = spec.dockerfileInline ?? (await readDockerfile(spec))
  const { globalArgs, stage } = parseDockerfile(text, spec.target)
  const globals: Record<string, string> = {}
  for (const i of globalArgs) for (const [k, v] of i.properties) globals[k] = spec.args[k] ?? v ?? ''

  const layers: Layer[] = []
  let config: NonNullable<ConfigJson['config']> = {}
  const history: { created: string; created_by: string; empty_layer?: boolean }[] = []
  const args: Record<string, string> = {}
  let shell = ['/bin/sh', '-c']
  let cmdFromBase = false
  const env = () => Object.fromEntries((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  const vars = () => ({ ...args, ...env() })
  const layerSizes: Record<string, number> = {}
  const commit = async (entries: LayerEntry[], createdBy: string) => {
    const { digest, size } = await ctx.images.blobs.put(layerTar(entries))
    // Unpacked now: the next RUN mounts it.
    const unpacked = await ctx.images.layers.unpack(digest, ctx.images.blobs.path(digest))
    if (unpacked) layerSizes[digest] = unpacked.bytes
    layers.push({ digest, diffId: digest, size, mediaType: 'application/vnd.oci.image.layer.v1.tar' })
    history.push({ created: new Date().toISOString(), created_by: createdBy })
  }
  const note = (createdBy: string) => history.push({ created: new Date().toISOString(), created_by: createdBy, empty_layer: true })

  for (const [n, i] of stage.entries()) {
    ctx.output(`#${n + 1} [${n + 1}/${stage.length}] ${i.keyword} ${i.text}`)
    const word = (s: string) => expand(s, vars())
    switch (i.keyword) {
      case 'FROM': {
        const ref = expand(i.args[0], globals)
        if (ref !== 'scratch') {
          let base = await ctx.images.resolve(ref)
          if (!base) {
            await ctx.pull(ref)
            base = await ctx.images.require(ref)
          }
          const json = await ctx.images.config(base)
          layers.push(...base.layers)
          config = { ...(json.config ?? {}) }
          cmdFromBase = !!config.Cmd
        }
        break
      }
      case 'ARG':
        for (const [k, v] of i.properties) args[k] = spec.args[k] ?? (v !== undefined ? word(v) : globals[k] ?? '')
        break
      case 'ENV': {
        const current = env()
        for (const [k, v] of i.properties) current[k] = word(v ?? '')
        config.Env = Object.entries(current).map(([k, v]) => `${k}=${v}`)
        note(`ENV ${i.text}`)
        break
      }
      case 'LABEL':
        config.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(i.properties.map(([k, v]) => [word(k), word(v ?? '')])) }
        break
      case 'MAINTAINER':
        break
      case 'WORKDIR': {
        const dir = posix.resolve(config.WorkingDir || '/', word(i.text))
        config.WorkingDir = dir
        await commit(parentDirs(dir.slice(1)), `WORKDIR ${dir}`)
        break
      }
      case 'USER':
        config.User = word(i.text)
        break
      case 'EXPOSE':
        config.ExposedPorts = { ...(config.ExposedPorts ?? {}), ...Object.fromEntries(i.args.map((p) => [word(p).includes('/') ? word(p) : `${word(p)}/tcp`, {}])) }
        break
      case 'CMD':
        config.Cmd = i.json ?? [...shell, i.text]
        cmdFromBase = false
        break
      case 'ENTRYPOINT':
        config.Entrypoint = i.json ?? [...shell, i.text]
        // As Docker: an ENTRYPOINT drops a CMD inherited from the base image.
        if (cmdFromBase) config.Cmd = null
        break
      case 'SHELL':
        if (!i.json?.length) throw new EngineError('invalid', `Dockerfile line ${i.line}: SHELL takes the JSON form, such as ["/bin/sh", "-c"]`)
        shell = i.json
        break
      case 'STOPSIGNAL':
        config.StopSignal = word(i.text)
        break
      case 'VOLUME':
        config.Volumes = { ...(config.Volumes ?? {}), ...Object.fromEntries((i.json ?? i.args).map((v) => [word(v), {}])) }
        break
      case 'HEALTHCHECK':
        config.Healthcheck = healthcheck(i)
        break
      case 'COPY':
      case 'ADD':
        await commit(await copyEntries(spec.context, i, word, config.WorkingDir || '/'), `${i.keyword} ${i.text}`)
        break
      case 'RUN': {
        const argv = i.json ?? [...shell, i.text]
        // The layer is written from the run's upper directory before that is cleared away.
        await run(ctx, layers, config, { ...args, ...env() }, argv, i, (entries) => commit(entries, `RUN ${i.text}`))
        break
      }
    }
  }

  config.Labels = { ...(config.Labels ?? {}), ...spec.labels }
  const platform = hostPlatform()
  const created = new Date().toISOString()
  const configJson: ConfigJson & Record<string, unknown> = { architecture: platform.architecture, os: platform.os, created, config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history }
  const configDigest = await ctx.images.blobs.putBuffer(JSON.stringify(configJson))
  const configSize = Buffer.byteLength(JSON.stringify(configJson))
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configSize },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }
  const manifestDigest = await ctx.images.blobs.putBuffer(JSON.stringify(manifest))
  const image = await ctx.images.add({ manifest: manifestDigest, config: configDigest, layers, platform, created, tags: spec.tags.map((t) => formatReference(parseReference(t))), digests: [], layerSizes })
  ctx.output(`naming to ${spec.tags.join(', ') || image.id}`)
  return image
}

/** Directory entries for `path` and each of its parents (no leading slash). */
function parentDirs(path: string): LayerEntry[] {
  const parts = path.split('/').filter(Boolean)
  return parts.map((_, n) => ({ name: parts.slice(0, n + 1).join('/'), type: 'directory' as const, mode: 0o755 }))
}

/**
 * COPY/ADD from the build context: files, directories (their content, as
 * Docker copies them) and `*`/`?` patterns, never from outside the context.
 * ADD of a URL or of a tar archive (which ADD would unpack) is refused.
 */
async function copyEntries(context: string, i: Instruction, word: (s: string) => string, workdir: string): Promise<LayerEntry[]> {
  const items = (i.json ?? i.args).map(word)
  if (items.length < 2) throw new EngineError('invalid', `Dockerfile line ${i.line}: ${i.keyword} needs a source and a destination`)
  const dest = items.pop()!
  const destPath = posix.resolve(workdir, dest).slice(1)
  const intoDir = dest.endsWith('/') || items.length > 1
  const owner = i.flags.chown ? chown(i.flags.chown, i.line) : undefined
  const mode = i.flags.chmod ? parseInt(i.flags.chmod, 8) : undefined
  const entries: LayerEntry[] = []
  for (const source of items) {
    if (i.keyword === 'ADD' && /^[a-z]+:\/\//i.test(source)) throw new EngineError('unsupported', `Dockerfile line ${i.line}: ADD from a URL is not supported by pier's builder; download it in a RUN step`)
    if (i.keyword === 'ADD' && /\.(tar|tgz|tar\.(gz|bz2|xz))$/.test(source)) throw new EngineError('unsupported', `Dockerfile line ${i.line}: ADD of an archive (which Docker unpacks) is not supported by pier's builder; use COPY and unpack it in a RUN step`)
    const paths = await contextSources(context, source, i.line)
    for (const path of paths) {
      const info = await lstat(path)
      const many = intoDir || paths.length > 1
      if (info.isDirectory()) {
        const under = destPath
        entries.push(...parentDirs(under), ...(await treeEntries(path, under)))
      } else {
        const name = many ? posix.join(destPath, basename(path)) : destPath
        entries.push(...parentDirs(posix.dirname(name) === '.' ? '' : posix.dirname(name)), await entryOf(path, name))
      }
    }
  }
  return entries.map((e) => ({ ...e, ...(owner && e.type !== 'whiteout' ? owner : {}), ...(mode !== undefined && e.type === 'file' ? { mode } : {}) }))
}

function chown(value: string, line: number): { uid: number; gid: number } {
  const [u, g = u] = value.split(':')
  if (!/^\d+$/.test(u) || !/^\d+$/.test(g)) throw new EngineError('unsupported', `Dockerfile line ${line}: --chown takes numeric IDs (uid:gid) in pier's builder`)
  return { uid: Number(u), gid: Number(g) }
}

function healthcheck(i: Instruction): NonNullable<NonNullable<ConfigJson['config']>['Healthcheck']> {
  if (i.args[0]?.toUpperCase() === 'NONE') return { Test: ['NONE'] }
  const rest = i.text.replace(/^CMD\s+/i, '')
  const json = rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : undefined
  // Image configs keep durations in nanoseconds.
  const ns = (flag: string): Record<string, number> => {
    if (i.flags[flag] === undefined) return {}
    const ms = parseDuration(i.flags[flag])
    if (ms === undefined) throw new EngineError('invalid', `Dockerfile line ${i.line}: --${flag}=${i.flags[flag]} is not a duration`)
    const key = flag.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')
    return { [key]: ms * 1e6 }
  }
  return {
    Test: json ? ['CMD', ...json] : ['CMD-SHELL', rest],
    ...ns('interval'),
    ...ns('timeout'),
    ...ns('start-period'),
    ...ns('start-interval'),
    ...(i.flags.retries !== undefined ? { Retries: Number(i.flags.retries) } : {}),
  }
}

/** A RUN step: runc on an overlay of the layers so far; the upper directory is the new layer. */
async function run(
  ctx: BuildContext,
  layers: Layer[],
  config: NonNullable<ConfigJson['config']>,
  env: Record<string, string>,
  argv: string[],
  i: Instruction,
  commit: (entries: LayerEntry[]) => Promise<void>,
): Promise<void> {
  const id = `build-${randomBytes(8).toString('hex')}`
  const dir = ctx.root.temp('build')
  const paths = { upper: join(dir, 'upper'), work: join(dir, 'work'), rootfs: join(dir, 'bundle', 'rootfs'), etc: join(dir, 'etc') }
  for (const p of Object.values(paths)) await mkdir(p, { recursive: true })
  const lower = layers.map((l) => ctx.images.layers.dir(l.diffId))
  try {
    if (lower.length === 0) throw new EngineError('invalid', `Dockerfile line ${i.line}: RUN needs something to run on: FROM scratch has no files yet (COPY a shell in first)`)
    await mountRootfs(lower, paths.upper, paths.work, paths.rootfs)
    const user = await resolveUser(config.User, lower)
    const etc = { hosts: join(paths.etc, 'hosts'), hostname: join(paths.etc, 'hostname'), resolvConf: join(paths.etc, 'resolv.conf') }
    await writeFile(etc.hosts, await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n'))
    await writeFile(etc.hostname, 'buildkit\n')
    await writeFile(etc.resolvConf, await readFile('/etc/resolv.conf', 'utf8').catch(() => ''))
    const vars = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: user.home, ...env }
    const spec = runSpec(id, argv)
    const configJson = runtimeSpec({ id, spec, user, env: Object.entries(vars).map(([k, v]) => `${k}=${v}`), workingDir: config.WorkingDir || '/', rootfs: paths.rootfs, etc, mounts: [], hostLimits: await hostLimits() })
    await writeFile(join(dir, 'bundle', 'config.json'), JSON.stringify(configJson))
    await new Promise<void>((done, fail) => {
      const child = spawn(ctx.runtime.binary, ctx.runtime.args('run', '--bundle', join(dir, 'bundle'), id), { stdio: ['ignore', 'pipe', 'pipe'] })
      const tail: string[] = []
      const lines = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          ctx.output(line)
          tail.push(line)
          if (tail.length > 5) tail.shift()
        }
      }
      child.stdout.on('data', lines)
      child.stderr.on('data', lines)
      child.on('error', fail)
      child.on('close', (c) => (c === 0 ? done() : fail(new EngineError('runtime', `Dockerfile line ${i.line}: RUN ${i.text} failed with exit code ${c}${tail.length ? `: ${tail.at(-1)}` : ''}`))))
    })
    await unmountRootfs(paths.rootfs)
    await commit(await upperEntries(paths.upper, MOUNT_POINTS))
  } finally {
    await ctx.runtime.run('delete', '--force', id).catch(() => undefined)
    await unmountRootfs(paths.rootfs).catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}

/** The container a RUN step is: the host's network (as `docker build` gives a build the network), no init, Docker's confinement. */
function runSpec(name: string, argv: string[]): ContainerSpec {
  return { ...defaultContainerSpec(name, '', argv), networkMode: 'host' }
}

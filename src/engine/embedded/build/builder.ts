import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises'
import type { BuildSpec, Image } from '../../engine.js'
import { EngineError } from '../../errors.js'
import { hostPlatform } from '../../platform.js'
import { formatReference, parseReference } from '../../reference.js'
import type { ConfigJson } from '../images/oci.js'
import type { ImageStore } from '../images/store.js'
import type { Runtime } from '../containers/runtime.js'
import type { Root } from '../root.js'
import { BuildCache, ContextSums, entriesHash, stepKey, type CachedStep, type Layer } from './cache.js'
import { applyConfigStep, envOf, workdirOf, type StageState } from './config.js'
import { readDockerfile } from './context.js'
import { copyEntries, parentDirs, type CopyFrom } from './copy.js'
import { filterUnder, readDockerIgnore, type DockerIgnore } from './dockerignore.js'
import type { Instruction, ParsedDockerfile, Stage } from './dockerfile.js'
import { entryOf, layerTar, treeEntries, type LayerEntry } from './layer.js'
import { checkFlags, mountRequests, runMount, Views, type MountRequest } from './mounts.js'
import { runStep, type RunMount } from './run.js'
import { dependencies, stageNamed, stagesFor } from './stages.js'
import { expand } from './words.js'

export interface BuildContext {
  root: Root
  images: ImageStore
  runtime: Runtime
  /** Makes a base image present (pulls it). */
  pull: (ref: string) => Promise<unknown>
  /** Each line of build output (steps, RUN output). */
  output: (line: string) => void
}

type History = { created: string; created_by: string; empty_layer?: boolean }

/** A stage's result: what a later `FROM <stage>` starts from and `COPY --from` reads. */
interface Built extends StageState {
  layers: Layer[]
  history: History[]
  /** The last step's cache key: names the stage's content. */
  key: string
}

/** What every stage of one build shares. */
interface Build {
  ctx: BuildContext
  spec: BuildSpec
  stages: Stage[]
  globals: Record<string, string>
  ignore: DockerIgnore
  cache: BuildCache
  /** Content hashes of the context's files, kept between builds by their stat. */
  sums: ContextSums
  views: Views
  built: Map<Stage, Built>
  /** Each selected stage's build, started or finished: a reference the dependency scan could not see (a variable) waits on it. */
  pending: Map<Stage, Promise<void>>
  layerSizes: Record<string, number>
  /** Where secret values are written for their mounts; removed when the build ends. */
  secretsDir: string
  /** The `#N` of the next step, counted across stages as BuildKit does. */
  counter: number
  multiStage: boolean
}

/**
 * Builds an image from a Dockerfile on the embedded engine, daemonless: the
 * stages the target needs, in order; each step that changes files (COPY,
 * ADD, RUN, WORKDIR) a layer; RUN with runc on an overlay of the layers so
 * far, its upper directory the layer. A step whose key (see cache.ts) is in
 * the cache reuses its layer and its first run's time, so a rebuild of
 * unchanged input gives the same image ID.
 */
export async function buildImage(ctx: BuildContext, spec: BuildSpec): Promise<Image> {
  const text = spec.dockerfileInline ?? (await readDockerfile(spec))
  const cache = new BuildCache(ctx.root, ctx.images)
  const { globalArgs, stages } = await parsed(text, cache)
  const platform = hostPlatform()
  const plat = `${platform.os}/${platform.architecture}`
  // BuildKit's automatic platform ARGs (`FROM --platform=$BUILDPLATFORM`, `ARG TARGETARCH`): the host's, as pier builds for it alone.
  const globals: Record<string, string> = { BUILDPLATFORM: plat, BUILDOS: platform.os, BUILDARCH: platform.architecture, TARGETPLATFORM: plat, TARGETOS: platform.os, TARGETARCH: platform.architecture }
  for (const i of globalArgs) for (const [k, v] of i.properties) globals[k] = spec.args[k] ?? (v !== undefined ? expand(v, globals) : '')
  for (const s of stages) for (const i of [s.from, ...s.steps]) checkFlags(i)
  const selected = stagesFor(stages, spec.target, globals)
  const b: Build = { ctx, spec, stages, globals, ignore: await readDockerIgnore(spec.context), cache, sums: new ContextSums(ctx.root, spec.context), views: new Views(ctx.root), built: new Map(), pending: new Map(), layerSizes: {}, counter: 1, multiStage: stages.length > 1, secretsDir: ctx.root.temp('build-secrets') }
  try {
    await buildStages(b, selected)
  } finally {
    await b.views.close()
    if (existsSync(b.secretsDir)) await rm(b.secretsDir, { recursive: true, force: true })
    await b.sums.save().catch(() => undefined)
  }
  const last = b.built.get(selected.at(-1)!)!
  const config = { ...last.config, Labels: { ...(last.config.Labels ?? {}), ...spec.labels } }
  // The newest step's time, not now: an unchanged rebuild writes the very same config, hence the same ID.
  const created = last.history.map((h) => h.created).sort().at(-1) ?? new Date(0).toISOString()
  const configJson: ConfigJson & Record<string, unknown> = { architecture: platform.architecture, os: platform.os, created, config, rootfs: { type: 'layers', diff_ids: last.layers.map((l) => l.diffId) }, history: last.history }
  const configText = JSON.stringify(configJson)
  const configDigest = await ctx.images.blobs.putBuffer(configText)
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(configText) },
    layers: last.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }
  const manifestDigest = await ctx.images.blobs.putBuffer(JSON.stringify(manifest))
  const image = await ctx.images.add({ manifest: manifestDigest, config: configDigest, layers: last.layers, platform, created, tags: spec.tags.map((t) => formatReference(parseReference(t))), digests: [], layerSizes: b.layerSizes })
  ctx.output(`#${b.counter} naming to ${spec.tags.join(', ') || image.id} done`)
  return image
}

/**
 * The Dockerfile as stages: from the cache when this very text was parsed
 * before (the parse is pure), else parsed, with the parser loaded only then.
 */
async function parsed(text: string, cache: BuildCache): Promise<ParsedDockerfile> {
  const known = await cache.getParsed(text)
  if (known) return known
  const { parseDockerfile } = await import('./dockerfile.js')
  const result = parseDockerfile(text)
  await cache.putParsed(text, result)
  return result
}

/**
 * Builds the selected stages, each as soon as the stages it reads (FROM,
 * COPY --from, RUN --mount from=) are built, so independent stages run
 * side by side as BuildKit runs them. Every stage is waited for, failed or
 * not, before the build's mounts are cleared away; the first failure (in
 * Dockerfile order) is the build's.
 */
async function buildStages(b: Build, selected: Stage[]): Promise<void> {
  const started = b.pending
  const run = (stage: Stage): Promise<void> => {
    let promise = started.get(stage)
    if (!promise) {
      promise = (async () => {
        const deps = dependencies(b.stages, stage, b.globals).filter((d) => selected.includes(d))
        await Promise.all(deps.map(run))
        b.built.set(stage, await buildStage(b, stage))
      })()
      started.set(stage, promise)
    }
    return promise
  }
  const results = await Promise.allSettled(selected.map(run))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

async function buildStage(b: Build, stage: Stage): Promise<Built> {
  const { ctx } = b
  const total = stage.steps.length + 1
  const label = b.multiStage ? `${stage.name ?? `stage-${stage.index}`} ` : ''
  // Returns the step's number: stages run side by side, so the counter may have moved on when the step ends.
  const announce = (n: number, i: Instruction) => {
    const number = b.counter++
    ctx.output(`#${number} [${label}${n}/${total}] ${i.keyword} ${i.flagList.map(([k, v]) => `--${k}=${v} `).join('')}${i.text.split('\n')[0]}`)
    return number
  }
  announce(1, stage.from)
  const s = await start(b, stage)
  const layerDirs = () => s.layers.map((l) => ctx.images.layers.dir(l.diffId))
  for (const [n, i] of stage.steps.entries()) {
    const number = announce(n + 2, i)
    const word = (t: string) => expand(t, { ...s.args, ...envOf(s.config) })
    const step = async (key: string, created_by: string, make?: (commit: (entries: LayerEntry[]) => Promise<void>) => Promise<void>) => {
      s.key = key
      const hit = b.spec.noCache ? undefined : await b.cache.get(key)
      if (hit) {
        ctx.output(`#${number} CACHED`)
        if (hit.layer) {
          s.layers.push(hit.layer)
          if (hit.layer.bytes !== undefined) b.layerSizes[hit.layer.diffId] = hit.layer.bytes
        }
        s.history.push({ created: hit.created, created_by, ...(hit.layer ? {} : { empty_layer: true }) })
        return
      }
      const created = new Date().toISOString()
      let layer: CachedStep['layer']
      if (make)
        await make(async (entries) => {
          layer = await commit(b, entries)
        })
      if (layer) s.layers.push(layer)
      s.history.push({ created, created_by, ...(layer ? {} : { empty_layer: true }) })
      await b.cache.put(key, { ...(layer ? { layer } : {}), config: s.config, created })
    }
    if (applyConfigStep(s, i, word, b.spec.args, b.globals)) {
      // The config after the step keys it (ENV values, LABELs, CMD…), and the SHELL later steps use. An ARG's
      // value keys only the steps that use it (a RUN sees them all; others, expanded), as in Docker's cache.
      await step(stepKey(s.key, i.keyword, s.config, Object.keys(s.args), s.shell), `${i.keyword} ${i.text}`)
      continue
    }
    if (i.keyword === 'WORKDIR') {
      const dir = workdirOf(s.config, word, i)
      s.config.WorkingDir = dir
      await step(stepKey(s.key, 'WORKDIR', dir), `WORKDIR ${dir}`, (commit) => commit(parentDirs(dir.slice(1))))
    } else if (i.keyword === 'COPY' || i.keyword === 'ADD') {
      const scratch = ctx.root.temp('build-copy')
      try {
        const source = await copySource(b, stage, i)
        const options = { workdir: s.config.WorkingDir || '/', layers: layerDirs(), scratch }
        const entriesOf = async () => copyEntries(i, word, await mounted(b, source), options)
        // From a stage or an image, what the COPY takes is decided by the source's layers and the step's words: its
        // content hash, once known, is looked up by those, so an unchanged rebuild need not mount the source to hash it.
        const sumKey = source.layers ? stepKey('copy-sum-2', i.keyword, source.layers.map((l) => l.diffId), s.layers.map((l) => l.diffId), i, { ...s.args, ...envOf(s.config) }, options.workdir) : undefined
        let entries: LayerEntry[] | undefined
        let sum = sumKey && !b.spec.noCache ? await b.cache.getSum(sumKey) : undefined
        if (!sum) {
          entries = await entriesOf()
          sum = await entriesHash(entries, source.root === b.spec.context ? b.sums : undefined)
          if (sumKey) await b.cache.putSum(sumKey, sum)
        }
        await step(stepKey(s.key, i.keyword, sum), `${i.keyword} ${i.text}`, async (commit) => commit(entries ?? (await entriesOf())))
      } finally {
        // Made only when an ADD unpacked an archive into it.
        if (existsSync(scratch)) await rm(scratch, { recursive: true, force: true })
      }
    } else if (i.keyword === 'RUN') {
      const argv = i.json ?? [...s.shell, runScript(i)]
      const requests = mountRequests(i, word)
      const mounts: RunMount[] = []
      const sourceKeys: string[] = []
      for (const r of requests) {
        if (r.type === 'secret') {
          // Not keyed: BuildKit's cache ignores a secret's content, and its value must not be written where keys are.
          const secret = await secretFile(b, r, i.line)
          if (secret) mounts.push({ source: secret, target: r.target, readOnly: true })
          continue
        }
        const fromStage = r.from ? stageNamed(b.stages, r.from, stage.index) : undefined
        const root = r.type === 'cache' ? '' : r.from ? (await viewOf(b, r.from, stage, i)).root : b.spec.context
        const m = await runMount(r, root, b.cache.mountDir(r.id), i.line)
        mounts.push(m)
        // A bind mount's content keys the RUN, as BuildKit's does; a cache mount's does not (it is a cache).
        if (r.type === 'bind') sourceKeys.push(fromStage ? b.built.get(fromStage)!.key : await contentKey(m.source, r.from ? undefined : b.ignore, b.spec.context, r.from ? undefined : b.sums))
      }
      const env = { ...s.args, ...envOf(s.config) }
      const run = { network: b.spec.network, shmSize: b.spec.shmSize, extraHosts: b.spec.extraHosts }
      await step(stepKey(s.key, 'RUN', argv, s.args, requests, sourceKeys), `RUN ${i.text}`, (commit) => runStep(ctx, { layers: layerDirs(), config: s.config, env, argv, mounts, instruction: i, ...run }, commit))
    }
  }
  return s
}

/** A stage's starting point: another stage's result, scratch, or an image (pulled when missing). */
async function start(b: Build, stage: Stage): Promise<Built> {
  const ref = expand(stage.from.args[0], b.globals)
  const wanted = stage.from.flags.platform !== undefined ? expand(stage.from.flags.platform, b.globals) : ''
  if (wanted && wanted !== b.globals.BUILDPLATFORM) throw new EngineError('unsupported', `Dockerfile line ${stage.from.line}: FROM --platform=${wanted}: pier builds for this machine's platform (${b.globals.BUILDPLATFORM}) only`)
  const fresh = (key: string): Built => ({ layers: [], history: [], key, config: {}, args: {}, shell: ['/bin/sh', '-c'], cmdFromBase: false })
  const parent = stageNamed(b.stages, ref, stage.index)
  if (parent) {
    const p = b.built.get(parent)!
    // Its own copies: this stage's steps must not change the parent's result, which others may read.
    return { ...p, layers: [...p.layers], history: [...p.history], config: structuredClone(p.config), args: {}, cmdFromBase: !!p.config.Cmd }
  }
  if (ref === 'scratch') return fresh(stepKey('scratch'))
  const base = await image(b, namedImage(b, ref, stage.from))
  const json = await b.ctx.images.config(base)
  return { ...fresh(stepKey('image', base.id)), layers: [...base.layers], history: [...((json as { history?: History[] }).history ?? [])], config: { ...(json.config ?? {}) }, cmdFromBase: !!json.config?.Cmd }
}

async function image(b: Build, ref: string) {
  let record = await b.ctx.images.resolve(ref)
  if (!record) {
    await b.ctx.pull(ref)
    record = await b.ctx.images.require(ref)
  }
  return record
}

/**
 * Where a `--from` reads: a stage (built earlier in this build) or an image,
 * as its layers (mounted only when read: see mounted), or a named context's
 * directory.
 */
interface Source {
  /** How errors name it; the build context when not given. */
  what?: string
  /** A directory on the host: the build context or a named context. */
  root?: string
  ignore?: DockerIgnore
  /** A stage's or an image's layers, bottom first, and the name its view is mounted under. */
  layers?: Layer[]
  id?: string
}

async function sourceOf(b: Build, ref: string, stage: Stage, i: Instruction): Promise<Source> {
  const from = stageNamed(b.stages, ref, stage.index)
  if (from) {
    if (!b.built.has(from)) await b.pending.get(from)?.catch(() => undefined)
    const built = b.built.get(from)
    if (!built) throw new EngineError('invalid', `Dockerfile line ${i.line}: stage ${ref} is not built before this one`)
    return { layers: built.layers, id: built.key, what: `stage ${ref}` }
  }
  if (ref === stage.name) throw new EngineError('invalid', `Dockerfile line ${i.line}: a stage cannot read from itself (--from=${ref})`)
  const named = b.spec.additionalContexts?.[ref]
  if (named !== undefined && !named.startsWith('docker-image://')) return { root: named, what: `context ${ref}` }
  const record = await image(b, namedImage(b, ref, i))
  return { layers: record.layers, id: record.id, what: `image ${ref}` }
}

/** A source as a directory to read: a stage's or an image's layers are mounted (once per build) for it. */
async function mounted(b: Build, source: Source): Promise<CopyFrom> {
  const named = { ...(source.what ? { what: source.what } : {}), ...(source.ignore ? { ignore: source.ignore } : {}) }
  if (source.root !== undefined) return { root: source.root, ...named }
  return { root: await b.views.of(source.id!, source.layers!.map((l) => b.ctx.images.layers.dir(l.diffId))), ...named }
}

/** A stage (built earlier in this build) or an image, mounted for reading. */
async function viewOf(b: Build, ref: string, stage: Stage, i: Instruction): Promise<{ root: string; what: string }> {
  const source = await sourceOf(b, ref, stage, i)
  return { root: (await mounted(b, source)).root, what: source.what! }
}

async function copySource(b: Build, stage: Stage, i: Instruction): Promise<Source> {
  if (!i.flags.from) return { root: b.spec.context, ignore: b.ignore }
  return sourceOf(b, expand(i.flags.from, b.globals), stage, i)
}

/** A named context (`additional_contexts`) that is an image stands for it; any other name is an image reference. */
function namedImage(b: Build, ref: string, i: Instruction): string {
  const named = b.spec.additionalContexts?.[ref]
  if (named === undefined) return ref
  if (named.startsWith('docker-image://')) return named.slice('docker-image://'.length)
  throw new EngineError('invalid', `Dockerfile line ${i.line}: FROM ${ref}: that named context is a directory; FROM needs an image (docker-image://REF or service:NAME)`)
}

/** The host file a secret mount binds: the build's file, or its value written under the build's temporary directory. */
async function secretFile(b: Build, r: MountRequest, line: number): Promise<string | undefined> {
  const secret = b.spec.secrets?.[r.id]
  if (!secret) {
    if (r.required) throw new EngineError('invalid', `Dockerfile line ${line}: RUN --mount=type=secret,id=${r.id} is required, and the build has no secret ${r.id} (build.secrets in the Compose file)`)
    return undefined
  }
  if ('file' in secret) return secret.file
  const path = `${b.secretsDir}/${createHash('sha256').update(r.id).digest('hex')}`
  await mkdir(b.secretsDir, { recursive: true, mode: 0o700 })
  await writeFile(path, secret.value, { mode: 0o400 })
  return path
}

/** What a bind mount from the context holds, as a key. */
async function contentKey(path: string, ignore: DockerIgnore | undefined, context: string, sums?: ContextSums): Promise<string> {
  const info = await lstat(path)
  const entries = info.isDirectory() ? await treeEntries(path, '', ignore ? filterUnder(ignore, path.slice(context.length + 1)) : undefined) : [await entryOf(path, 'file')]
  return entriesHash(entries, sums)
}

/**
 * A RUN's script for the shell. `RUN <<EOF` alone runs the heredoc's body
 * as the script, as BuildKit does; a heredoc after a command (`RUN cat
 * <<EOF > f`) is left in the text for the shell, which reads heredocs itself.
 */
function runScript(i: Instruction): string {
  const first = i.text.split('\n')[0].trim()
  const only = /^<<-?(["']?)([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(first)
  if (only && i.heredocs.length === 1) return i.heredocs[0].body
  return i.text
}

async function commit(b: Build, entries: LayerEntry[]): Promise<Layer & { bytes?: number }> {
  const { ctx } = b
  const { digest, size } = await ctx.images.blobs.put(layerTar(entries))
  // Unpacked now: the next RUN mounts it.
  const unpacked = await ctx.images.layers.unpack(digest, ctx.images.blobs.path(digest))
  if (unpacked) b.layerSizes[digest] = unpacked.bytes
  return { digest, diffId: digest, size, mediaType: 'application/vnd.oci.image.layer.v1.tar', ...(unpacked ? { bytes: unpacked.bytes } : {}) }
}

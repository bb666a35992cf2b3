import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'

import { familiarName, type Engine, type Image } from '../../engine/index.js'
import { EngineError } from '../../engine/errors.js'
import { parsePlatform } from '../../engine/platform.js'
import { loadProject } from '../../spec/load.js'
import { SpecError } from '../../spec/errors.js'
import { engineFor, loadOptions, progressMode, type GlobalFlags } from '../global.js'
import { bytes, withProgress } from '../progress.js'
import { table } from '../table.js'

/**
 * `pier pull`/`push` take what Compose takes — services of the project (all
 * of them when none is named) — and, outside a project or for a name that is
 * no service, image references, as `docker pull` does.
 */
async function imagesFor(flags: GlobalFlags, names: string[]): Promise<string[]> {
  let project
  try {
    project = await loadProject({ ...loadOptions(flags), onWarning: () => {} })
  } catch (err) {
    if (err instanceof SpecError && err.code === 'no-config' && names.length > 0) return names
    throw err
  }
  const services = project.services
  if (names.length === 0) return [...new Set(Object.values(services).flatMap((s) => (s.image ? [s.image] : [])))]
  return names.map((n) => services[n]?.image ?? n)
}

export async function pull(flags: GlobalFlags, names: string[], opts: { platform?: string; quiet?: boolean }): Promise<void> {
  await pullRefs(flags, await imagesFor(flags, names), opts)
}

export async function pullRefs(flags: GlobalFlags, refs: string[], opts: { platform?: string; quiet?: boolean }): Promise<void> {
  const engine = await engineFor(flags)
  for (const ref of refs) {
    const image = await withProgress(`Pulling ${ref}`, opts.quiet ? 'quiet' : progressMode(flags), (progress) =>
      engine.pullImage(ref, { progress, ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}) }),
    )
    process.stdout.write(`${image.digests[0] ?? image.id}\n`)
  }
}

export async function push(flags: GlobalFlags, names: string[]): Promise<void> {
  await pushRefs(flags, await imagesFor(flags, names))
}

export async function pushRefs(flags: GlobalFlags, refs: string[]): Promise<void> {
  const engine = await engineFor(flags)
  for (const ref of refs) {
    const { digest } = await withProgress(`Pushing ${ref}`, progressMode(flags), (progress) => engine.pushImage(ref, { progress }))
    process.stdout.write(`${ref}: digest: ${digest}\n`)
  }
}

export async function list(flags: GlobalFlags, opts: { format: string; quiet?: boolean }): Promise<void> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new EngineError('invalid', `unknown format "${opts.format}": use table or json`)
  const images = (await (await engineFor(flags)).listImages()).sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''))
  if (opts.quiet) {
    process.stdout.write(images.map((i) => `${i.id.slice(7, 19)}\n`).join(''))
    return
  }
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify(images, null, 2)}\n`)
    return
  }
  const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']]
  for (const image of images) {
    const names = image.tags.length ? image.tags.map(familiarName) : ['<none>:<none>']
    for (const name of names) {
      const cut = name.lastIndexOf(':')
      rows.push([name.slice(0, cut), name.slice(cut + 1), image.id.slice(7, 19), image.created ?? '', bytes(image.size)])
    }
  }
  process.stdout.write(table(rows))
}

export async function load(flags: GlobalFlags, opts: { input?: string; quiet?: boolean }): Promise<void> {
  const engine = await engineFor(flags)
  const input = opts.input ? createReadStream(opts.input) : process.stdin
  if (!opts.input && process.stdin.isTTY) throw new EngineError('invalid', 'no archive to load: give one with -i FILE, or pipe it to standard input')
  const opened = new Promise<void>((resolve, reject) => {
    if (!opts.input) return resolve()
    input.once('open', () => resolve())
    input.once('error', (err: NodeJS.ErrnoException) => reject(new EngineError('not-found', `cannot read ${opts.input}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)))
  })
  await opened
  const images = await withProgress('Loading', opts.quiet ? 'quiet' : progressMode(flags), (progress) => engine.loadImages(input, { progress }))
  for (const image of images) {
    const names = image.tags.length ? image.tags.map(familiarName) : [image.id]
    for (const name of names) process.stdout.write(`Loaded image${image.tags.length ? '' : ' ID'}: ${name}\n`)
  }
}

export async function save(flags: GlobalFlags, refs: string[], opts: { output?: string }): Promise<void> {
  const engine = await engineFor(flags)
  if (!opts.output) {
    if (process.stdout.isTTY) throw new EngineError('invalid', 'refusing to write an archive to a terminal: use -o FILE or redirect standard output')
    await engine.saveImages(refs, process.stdout)
    return
  }
  // Write beside the target and rename, so a failed save leaves no partial archive.
  const temp = `${opts.output}.pier-${process.pid}.tmp`
  try {
    await engine.saveImages(refs, createWriteStream(temp))
    await rename(temp, opts.output)
  } finally {
    await rm(temp, { force: true })
  }
}

export async function inspect(flags: GlobalFlags, refs: string[]): Promise<void> {
  const engine = await engineFor(flags)
  const images: Image[] = []
  for (const ref of refs) {
    const image = await engine.inspectImage(ref)
    if (!image) throw new EngineError('not-found', `no such image: ${ref}`)
    images.push(image)
  }
  process.stdout.write(`${JSON.stringify(images, null, 2)}\n`)
}

export async function tag(flags: GlobalFlags, source: string, target: string): Promise<void> {
  await (await engineFor(flags)).tagImage(source, target)
}

export async function remove(flags: GlobalFlags, refs: string[], opts: { force?: boolean }): Promise<void> {
  const engine = await engineFor(flags)
  for (const ref of refs) {
    const { untagged, deleted } = await engine.removeImage(ref, { force: opts.force })
    for (const name of untagged) process.stdout.write(`Untagged: ${name}\n`)
    for (const id of deleted) process.stdout.write(`Deleted: ${id}\n`)
  }
}




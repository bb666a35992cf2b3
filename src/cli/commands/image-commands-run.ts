import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { commitService, exportService, login as loginTo, logout as logoutFrom, search as searchRegistry } from '../../compose/image-commands.js'
import { familiarName } from '../../engine/index.js'
import { UsageError } from '../../errors.js'
import { contextFor, loadFor, type GlobalFlags } from '../global.js'
import { bytes } from '../progress.js'
import { humanDuration } from '../ps-format.js'
import { table } from '../table.js'
import type { CommitFlags, HistoryFlags, LoginFlags } from './image-commands.js'

const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12)

/** `--index N`: a whole number of at least 1. */
function indexOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`invalid --index "${text}": give a whole number of at least 1`)
  return Number(text)
}

/** Asks on a terminal; without one, `-f` is the only yes. */
async function confirmed(question: string, force?: boolean): Promise<boolean> {
  if (force) return true
  if (!process.stdin.isTTY) throw new UsageError(`${question.split('.')[0]}: add -f to confirm`)
  process.stderr.write(`${question} [y/N] `)
  const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d).trim())))
  process.stdin.pause()
  return /^y(es)?$/i.test(answer)
}

/** Docker's columns: IMAGE CREATED CREATED BY SIZE COMMENT; commands cut to 45 characters unless --no-trunc. */
export async function history(flags: GlobalFlags, ref: string, opts: HistoryFlags): Promise<void> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new UsageError(`unknown format "${opts.format}": use table or json`)
  const { engine } = await contextFor(flags)
  const entries = await engine.imageHistory(ref)
  const id = (e: { id?: string }) => (e.id ? (opts.trunc ? shortId(e.id) : e.id) : '<missing>')
  if (opts.quiet) {
    process.stdout.write(entries.map((e) => `${id(e)}\n`).join(''))
    return
  }
  if (opts.format === 'json') {
    for (const e of entries) process.stdout.write(`${JSON.stringify({ ID: id(e), CreatedAt: e.created ?? '', CreatedBy: e.createdBy, Size: e.size, Comment: e.comment, Tags: e.tags })}\n`)
    return
  }
  const human = opts.human !== false
  const rows = [['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']]
  for (const e of entries) {
    const created = !e.created ? 'N/A' : human ? `${humanDuration(Date.now() - Date.parse(e.created))} ago` : e.created
    let by = e.createdBy.replace(/\s+/g, ' ')
    if (opts.trunc && by.length > 45) by = `${by.slice(0, 44)}…`
    rows.push([id(e), created, by, human ? bytes(e.size) : String(e.size), e.comment])
  }
  process.stdout.write(table(rows))
}

export async function importImage(flags: GlobalFlags, file: string, ref: string | undefined, opts: { change: string[]; message?: string }): Promise<void> {
  if (file === '-' && process.stdin.isTTY) throw new UsageError('no archive to import: pipe a tar to standard input, or give a file')
  const { engine } = await contextFor(flags)
  const input = file === '-' ? process.stdin : createReadStream(file)
  if (file !== '-') {
    await new Promise<void>((resolve, reject) => {
      input.once('open', () => resolve())
      input.once('error', (err: NodeJS.ErrnoException) => reject(new UsageError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)))
    })
  }
  const image = await engine.importImage(input, { changes: opts.change, ...(opts.message ? { message: opts.message } : {}), ...(ref ? { tag: ref } : {}) })
  process.stdout.write(`${image.id}\n`)
}

/** As `docker image prune`: what went, then "Total reclaimed space: …". */
export async function pruneImages(flags: GlobalFlags, opts: { all?: boolean; force?: boolean }): Promise<void> {
  const question = opts.all ? 'This will remove all images without at least one container associated to them. Are you sure you want to continue?' : 'This will remove all dangling images. Are you sure you want to continue?'
  if (!(await confirmed(`WARNING! ${question}`, opts.force))) return
  const { engine } = await contextFor(flags)
  const report = await engine.pruneImages({ all: !!opts.all })
  if (report.untagged.length || report.deleted.length) {
    process.stdout.write('Deleted Images:\n')
    for (const name of report.untagged) process.stdout.write(`untagged: ${name}\n`)
    for (const id of report.deleted) process.stdout.write(`deleted: ${id}\n`)
    process.stdout.write('\n')
  }
  process.stdout.write(`Total reclaimed space: ${bytes(report.reclaimed)}\n`)
}

export async function pruneBuilder(flags: GlobalFlags, opts: { force?: boolean }): Promise<void> {
  if (!(await confirmed('WARNING! This will remove all build cache. Are you sure you want to continue?', opts.force))) return
  const { engine } = await contextFor(flags)
  const { entries, reclaimed } = await engine.pruneBuildCache()
  process.stdout.write(`Deleted build cache objects: ${entries}\nTotal reclaimed space: ${bytes(reclaimed)}\n`)
}

export async function commit(flags: GlobalFlags, service: string, ref: string | undefined, opts: CommitFlags): Promise<void> {
  const index = indexOf(opts.index)
  const project = await loadFor(flags, [service], { quiet: true })
  const ctx = await contextFor(flags)
  const image = await commitService(ctx, project, service, ref, {
    changes: opts.change,
    pause: opts.pause !== false,
    ...(opts.message ? { message: opts.message } : {}),
    ...(opts.author ? { author: opts.author } : {}),
    ...(index ? { index } : {}),
  })
  process.stdout.write(`${image.id}\n`)
}

/** To a file written beside the target and renamed, so a failed export leaves no partial archive. */
export async function exportFs(flags: GlobalFlags, service: string, opts: { output?: string; index?: string }): Promise<void> {
  const index = indexOf(opts.index)
  if (!opts.output && process.stdout.isTTY) throw new UsageError('refusing to write an archive to a terminal: use -o FILE or redirect standard output')
  const project = await loadFor(flags, [service], { quiet: true })
  const ctx = await contextFor(flags)
  const stream = await exportService(ctx, project, service, index ? { index } : {})
  if (!opts.output) {
    await pipeline(stream, process.stdout, { end: false })
    return
  }
  const temp = `${opts.output}.pier-${process.pid}.tmp`
  try {
    await pipeline(stream, createWriteStream(temp))
    await rename(temp, opts.output)
  } finally {
    await rm(temp, { force: true })
  }
}

export async function login(flags: GlobalFlags, server: string | undefined, opts: LoginFlags): Promise<void> {
  if (opts.password !== undefined && opts.passwordStdin) throw new UsageError('give the password once: --password or --password-stdin, not both')
  let password = opts.password ?? ''
  if (opts.passwordStdin) {
    if (!opts.username) throw new UsageError('--password-stdin needs a user name: give -u USER')
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  } else if (opts.password !== undefined) {
    process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n')
  }
  const ctx = await contextFor(flags)
  const saved = await loginTo(ctx, server, { username: opts.username ?? '', password })
  if (!saved.helper) process.stderr.write(`WARNING! Your password will be stored unencrypted in ${saved.file}.\n`)
  process.stdout.write('Login Succeeded\n')
}

export async function logout(_flags: GlobalFlags, server: string | undefined): Promise<void> {
  const { server: key, removed } = logoutFrom(server)
  process.stdout.write(removed ? `Removing login credentials for ${key}\n` : `Not logged in to ${key}\n`)
}

export async function search(flags: GlobalFlags, term: string, opts: { registry?: string; limit?: string; format: string }): Promise<void> {
  if (opts.format !== 'table' && opts.format !== 'json') throw new UsageError(`unknown format "${opts.format}": use table or json`)
  const limit = opts.limit === undefined ? undefined : /^[1-9]\d*$/.test(opts.limit) ? Number(opts.limit) : NaN
  const ctx = await contextFor(flags)
  const names = await searchRegistry(ctx, term, { ...(opts.registry ? { registry: opts.registry } : {}), ...(limit !== undefined ? { limit } : {}) })
  if (opts.format === 'json') {
    for (const name of names) process.stdout.write(`${JSON.stringify({ Name: familiarName(name) })}\n`)
    return
  }
  process.stdout.write(table([['NAME'], ...names.map((n) => [n])]))
}

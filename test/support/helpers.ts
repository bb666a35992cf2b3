import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadProject, type LoadOptions } from '../../src/spec/load.js'
import { SpecError } from '../../src/spec/errors.js'
import type { Project } from '../../src/spec/project.js'

// Tests do not share the user's cache: the cache has its own test, with its own directory.
process.env.PIER_NO_CACHE = '1'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const pierBin = join(repoRoot, 'bin', 'pier.js')

/** A temporary project directory holding `files` (path → content); removed by `cleanup`. */
export class TempProject {
  readonly dir: string

  constructor(files: Record<string, string> = {}, name = 'proj') {
    this.dir = join(mkdtempSync(join(tmpdir(), 'pier-test-')), name)
    mkdirSync(this.dir, { recursive: true })
    this.write(files)
  }

  write(files: Record<string, string>): this {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path)
      mkdirSync(dirname(full), { recursive: true })
      writeFileSync(full, content)
    }
    return this
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts)
  }

  cleanup(): void {
    rmSync(dirname(this.dir), { recursive: true, force: true })
  }
}

export interface Loaded {
  project: Project
  warnings: string[]
}

/**
 * Loads a project made of `files` in a fresh directory, with an empty process
 * environment unless one is given, so tests never depend on the machine's.
 */
export async function load(files: Record<string, string>, options: LoadOptions = {}): Promise<Loaded> {
  const tmp = new TempProject(files)
  const warnings: string[] = []
  try {
    const project = await loadProject({ cwd: tmp.dir, environment: {}, onWarning: (w) => warnings.push(w), ...options })
    return { project, warnings }
  } finally {
    tmp.cleanup()
  }
}

/** Loads and returns one service. */
export async function service(yaml: string, name = 'web', options: LoadOptions = {}) {
  const { project } = await load({ 'compose.yaml': yaml }, options)
  return project.services[name]
}

/** Expects loading to fail with a SpecError whose message matches every pattern. */
export async function loadFails(files: Record<string, string>, patterns: RegExp[], options: LoadOptions = {}): Promise<SpecError> {
  try {
    await load(files, options)
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${err}`)
    for (const p of patterns) assert.match(err.message, p)
    assert.ok(!err.message.includes('\n'), `the message is one line: ${err.message}`)
    return err
  }
  assert.fail('expected the load to fail')
}

export interface RunResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the pier CLI as a user would, in `cwd`, with a clean environment plus `env`. */
export function pier(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string | Buffer } = {}): RunResult {
  const result = spawnSync(process.execPath, [pierBin, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PIER_NO_CACHE: '1', ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/**
 * The reference files (../shared/reference: the official schema, the corpus)
 * sit beside the project in CI, not in every clone. Tests that need them run
 * under this `describe`, which skips them, saying why, when they are absent.
 */
export const sharedReference = join(repoRoot, '..', 'shared', 'reference')
export const describeWithReference: (title: string, fn: (this: Mocha.Suite) => void) => void = existsSync(sharedReference)
  ? (title, fn) => describe(title, fn)
  : // The suite's body reads the files as it is defined, so it is not run at all: one pending test says why.
    (title) => describe(title, () => it.skip(`skipped: ${sharedReference} is not beside this clone`))

/** One container of `pier ps --format json` (one JSON object a line, as Compose prints it). */
export interface PsJson {
  ID: string
  Name: string
  Service: string
  State: string
  Status: string
  Health: string
  ExitCode: number
  Ports: string
}

export function psJson(stdout: string): PsJson[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PsJson)
}

/** A container's state in a word, with its health or exit code: "Running (healthy)", "Exited (0)", "Created". */
export function shortStatus(c: PsJson): string {
  const word = `${c.State[0].toUpperCase()}${c.State.slice(1)}`
  if (c.State === 'exited') return `${word} (${c.ExitCode})`
  return c.Health ? `${word} (${c.Health})` : word
}

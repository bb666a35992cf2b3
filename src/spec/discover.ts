import { statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { SpecError } from './errors.js'

/** The names Compose looks for, in the order it prefers them (fig.yml last, for very old projects). */
export const CONFIG_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml', 'fig.yml', 'fig.yaml']

/** Where a file's override twin would be, most likely name first. */
function overrideNames(file: string): string[] {
  const base = basename(file)
  const dot = base.lastIndexOf('.')
  const twin = `${base.slice(0, dot)}.override${base.slice(dot)}`
  const others = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml']
  return [twin, ...others.filter((n) => n !== twin)]
}

export interface Discovered {
  files: string[]
  warnings: string[]
}

/**
 * Finds the project's files when no `-f` was given: the first of CONFIG_NAMES
 * in `dir` or, failing that, in its parents, plus its override twin when
 * present. Several candidates in one directory earn a warning naming the one used.
 */
export function discoverFiles(dir: string): Discovered {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const found = CONFIG_NAMES.filter((name) => isFile(join(current, name)))
    if (found.length > 0) {
      const main = join(current, found[0])
      const warnings = found.length > 1 ? [`found several compose files in ${current}: ${found.join(', ')}; using ${found[0]}`] : []
      const override = overrideNames(main).map((n) => join(current, n)).find(isFile)
      return { files: override ? [main, override] : [main], warnings }
    }
    if (dirname(current) === current) break
  }
  throw new SpecError('no-config', `no compose file found in ${resolve(dir)} or its parents: create compose.yaml, or name a file with -f`)
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

const VALID_NAME = /^[a-z0-9][a-z0-9_-]*$/

/** Checks a project name given explicitly (-p, COMPOSE_PROJECT_NAME, `name:`). */
export function checkProjectName(name: string, source: string): string {
  if (!VALID_NAME.test(name)) {
    throw new SpecError(
      'invalid-name',
      `invalid project name "${name}" (from ${source}): use lower-case letters, digits, "-" and "_", starting with a letter or digit`,
    )
  }
  return name
}

/** A project name derived from a directory: lower-cased, invalid characters dropped (as Compose does). */
export function nameFromDirectory(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '')
  if (name === '') {
    throw new SpecError('invalid-name', `cannot derive a project name from the directory "${dir}": set one with -p, COMPOSE_PROJECT_NAME or a top-level name:`)
  }
  return name
}

import { PierError } from '../errors.js'
import type { Loc } from './source.js'

export type SpecErrorCode =
  | 'file-not-found'
  | 'no-config'
  | 'yaml'
  | 'schema'
  | 'interpolation'
  | 'env-file'
  | 'extends'
  | 'include'
  | 'invalid-value'
  | 'invalid-name'
  | 'reference'

/**
 * A problem with the user's Compose files or options. The message is one line:
 * where (file:line:col), the field path, what was wrong and what to do.
 */
export class SpecError extends PierError {
  readonly code: SpecErrorCode
  readonly loc?: Loc
  readonly path?: string

  constructor(code: SpecErrorCode, message: string, where: { loc?: Loc; path?: string } = {}) {
    super(formatWhere(where) + message)
    this.code = code
    this.loc = where.loc
    this.path = where.path
  }
}

function formatWhere({ loc, path }: { loc?: Loc; path?: string }): string {
  let prefix = ''
  if (loc) prefix += `${loc.file}:${loc.line}:${loc.col}: `
  if (path) prefix += `${path}: `
  return prefix
}

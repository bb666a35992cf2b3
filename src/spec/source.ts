import { relative, isAbsolute } from 'node:path'

/** A position in a Compose file, 1-based, as editors show it. */
export interface Loc {
  file: string
  line: number
  col: number
}

/** A field path as users read it: `services.web.ports[1]`. */
export type FieldPath = string

export function childPath(parent: FieldPath, key: string | number): FieldPath {
  if (typeof key === 'number') return `${parent}[${key}]`
  return parent === '' ? key : `${parent}.${key}`
}

/** The parent of a field path, or undefined for the root. */
export function parentPath(path: FieldPath): FieldPath | undefined {
  if (path === '') return undefined
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['))
  return cut <= 0 ? '' : path.slice(0, cut)
}

/** The file name to show in messages: relative to the working directory when inside it. */
export function displayName(file: string): string {
  if (!isAbsolute(file)) return file
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

/**
 * Where each field of the loaded files came from. Positions are kept per file
 * and per field path, not on the values, so merging and interpolation stay
 * plain data transformations; after a merge, a field is looked up in the
 * files from the last to the first, which is the file whose value won.
 */
export class Sources {
  private readonly files: { file: string; positions: () => Map<FieldPath, Loc> }[] = []

  /** Positions may come lazily: they are only needed to report an error. */
  add(file: string, positions: Map<FieldPath, Loc> | (() => Map<FieldPath, Loc>)): void {
    if (typeof positions !== 'function') {
      this.files.push({ file, positions: () => positions })
      return
    }
    let map: Map<FieldPath, Loc> | undefined
    this.files.push({ file, positions: () => (map ??= positions()) })
  }

  /** The position of a field, or of its nearest parent that has one. */
  locate(path: FieldPath | undefined, file?: string): Loc | undefined {
    const candidates = file ? this.files.filter((f) => f.file === file) : this.files
    for (let p: FieldPath | undefined = path; p !== undefined; p = parentPath(p)) {
      for (let i = candidates.length - 1; i >= 0; i--) {
        const loc = candidates[i].positions().get(p)
        if (loc) return loc
      }
    }
    return undefined
  }
}

import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, type Node, type Pair } from 'yaml'
import { isPlainDict, Override, Reset, type Dict } from './data.js'
import { SpecError } from './errors.js'
import { childPath, displayName, type FieldPath, type Loc } from './source.js'


export interface ParsedFile {
  file: string
  /** The document as plain data; always a mapping. */
  data: Dict
  /** Where each field was written; built on demand when it comes from the cache. */
  positions: Map<FieldPath, Loc> | (() => Map<FieldPath, Loc>)
}

/** Aliases may share subtrees, but their expanded size is capped (billion laughs). */
const MAX_EXPANDED_NODES = 5_000_000

/**
 * Parses one Compose file with the YAML 1.2 core schema (so `22:22` stays a
 * string and `yes` stays `yes`, as in Compose), resolving anchors, aliases and
 * `<<` merge keys, and recording the position of every field.
 */
export function parseYaml(text: string, file: string): ParsedFile {
  const name = displayName(file)
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { version: '1.2', lineCounter, uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    const err = doc.errors[0]
    const pos = lineCounter.linePos(err.pos[0])
    const what = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
    throw new SpecError('yaml', `invalid YAML: ${what}`, { loc: { file: name, line: pos.line, col: pos.col } })
  }
  const positions = new Map<FieldPath, Loc>()
  const walker = new Walker(name, lineCounter, positions)
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new SpecError('yaml', 'empty compose file: add a `services:` section', { loc: { file: name, line: 1, col: 1 } })
  }
  const data = walker.convert(doc.contents as Node, '')
  if (!isPlainDict(data)) {
    throw new SpecError('yaml', 'the top level of a compose file must be a mapping (services:, volumes:, …)', {
      loc: walker.loc(doc.contents as Node),
    })
  }
  return { file, data, positions }
}

class Walker {
  private expanded = 0
  private readonly aliasCache = new Map<Node, { value: unknown; size: number }>()
  /**
   * Anchors seen so far, in document order, so an alias finds the latest
   * anchor of its name before it (the YAML rule) in constant time; the yaml
   * package's own Alias.resolve walks the whole document per alias.
   */
  private readonly anchors = new Map<string, Node>()

  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly positions: Map<FieldPath, Loc>,
  ) {}

  loc(node: { range?: [number, number, number] | null } | null | undefined): Loc {
    const offset = node?.range?.[0] ?? 0
    const pos = this.lines.linePos(offset)
    return { file: this.file, line: pos.line, col: pos.col }
  }

  convert(node: Node | null, path: FieldPath): unknown {
    if (node === null) return null
    this.expanded++
    if (isAlias(node)) return this.alias(node, path)
    if ((node as { anchor?: string }).anchor) this.anchors.set((node as { anchor: string }).anchor, node)
    const value = this.plain(node, path)
    if (node.tag === '!reset') return new Reset()
    if (node.tag === '!override') return new Override(value)
    return value
  }

  private plain(node: Node, path: FieldPath): unknown {
    if (isScalar(node)) return node.value
    if (isSeq(node)) return node.items.map((item, i) => {
      const itemPath = childPath(path, i)
      this.positions.set(itemPath, this.loc(item as Node))
      return this.convert(item as Node, itemPath)
    })
    if (isMap(node)) return this.map(node.items as Pair<Node, Node>[], path)
    throw new SpecError('yaml', 'unsupported YAML node', { loc: this.loc(node), path })
  }

  private map(items: Pair<Node, Node>[], path: FieldPath): Dict {
    const out: Dict = {}
    const merged: Dict[] = []
    for (const pair of items) {
      const key = isScalar(pair.key) ? pair.key.value : null
      if (key === '<<' && isScalar(pair.key) && pair.key.type === 'PLAIN') {
        merged.push(...this.mergeSources(pair.value, path))
        continue
      }
      if (key === null || typeof key === 'object') {
        throw new SpecError('yaml', 'mapping keys must be plain scalars', { loc: this.loc(pair.key), path })
      }
      const name = String(key)
      if (name === '__proto__') throw new SpecError('yaml', 'the key "__proto__" is not allowed', { loc: this.loc(pair.key), path })
      const keyPath = childPath(path, name)
      this.positions.set(keyPath, this.loc(pair.key))
      out[name] = this.convert(pair.value, keyPath)
    }
    // Merge keys: explicit keys win, then the merged mappings in the order written.
    for (const source of merged) {
      for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = v
    }
    return out
  }

  private mergeSources(value: Node | null, path: FieldPath): Dict[] {
    const sources = isSeq(value) ? (value.items as Node[]) : [value]
    return sources.map((source) => {
      const converted = this.convert(source, path)
      if (!isPlainDict(converted)) {
        throw new SpecError('yaml', 'a `<<` merge key needs a mapping or a list of mappings', { loc: this.loc(source), path })
      }
      return converted
    })
  }

  private alias(node: Node & { source: string }, path: FieldPath): unknown {
    const target = this.anchors.get(node.source)
    if (!target) throw new SpecError('yaml', `unknown anchor *${node.source}`, { loc: this.loc(node), path })
    let cached = this.aliasCache.get(target)
    if (!cached) {
      const before = this.expanded
      // Positions inside an anchor are recorded once, under the anchor's own path.
      const value = this.convert(target, path)
      cached = { value, size: this.expanded - before }
      this.aliasCache.set(target, cached)
    }
    this.expanded += cached.size
    if (this.expanded > MAX_EXPANDED_NODES) {
      throw new SpecError('yaml', 'aliases expand to too large a document (more than 5 million nodes)', { loc: this.loc(node), path })
    }
    return cached.value
  }
}

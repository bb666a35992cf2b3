import { LineCounter, parseAllDocuments, isAlias, isMap, isScalar, isSeq, type Node, type Pair } from 'yaml'
import { isPlainDict, Override, Reset, type Dict } from './data.js'
import { SpecError } from './errors.js'
import { mergeDocuments } from './merge.js'
import { childPath, displayName, type FieldPath, type Loc } from './source.js'
import { parseFast } from './parse-fast.js'
import { composeNumberTags } from './yaml-numbers.js'


export interface ParsedFile {
  file: string
  /** The document as plain data; always a mapping. */
  data: Dict
  /** Where each field was written; built on demand when the fast path read the file or it comes from the cache. */
  positions: Map<FieldPath, Loc> | (() => Map<FieldPath, Loc>)
  /** No document, or only empty ones (comments, `---`). */
  empty?: boolean
  /** Holds a `!reset` or `!override` somewhere. */
  markers?: boolean
}

/**
 * Aliases may share subtrees, but what they expand to is capped (billion
 * laughs): every later stage walks the expanded document, so a small file
 * whose aliases expand to millions of nodes costs seconds and hundreds of MB.
 * Real files expand a few thousand nodes through aliases.
 */
const MAX_ALIAS_NODES = 250_000
/** Nesting deeper than this is no Compose file; every stage after parsing recurses. */
export const MAX_DEPTH = 200

/**
 * Parses one Compose file with the YAML 1.2 core schema (so `22:22` stays a
 * string and `yes` stays `yes`, as in Compose) but with Compose's numbers
 * (`0440` is octal), resolving anchors, aliases and `<<` merge keys, and
 * recording the position of every field.
 *
 * Most files take the fast path (parse-fast.ts), which returns the same data
 * or declines; the positions are then found only when asked for (an error, a
 * warning), by reading the text again here. Everything else, and every
 * error, comes from the walk below.
 */
export function parseYaml(text: string, file: string): ParsedFile {
  const docs = parseFast(text, { maxDepth: MAX_DEPTH, maxAliasNodes: MAX_ALIAS_NODES })
  if (docs === undefined) return parseSlow(text, file)
  const name = displayName(file)
  let positions: Map<FieldPath, Loc> | undefined
  const lazy = () => (positions ??= parseSlow(text, file, name).positions as Map<FieldPath, Loc>)
  // A file of several documents (`---`) is read as that many files, merged in order, as compose-go does.
  const data = docs.reduce<Dict | undefined>((merged, doc) => (merged === undefined ? doc : mergeDocuments(merged, doc)), undefined)
  if (data === undefined) return { file, data: {}, positions: lazy, empty: true }
  return { file, data, positions: lazy, markers: false }
}

/** Where each field of `text` is written: the slow path's walk, for a file the fast path read. */
export function positionsOf(text: string, file: string): Map<FieldPath, Loc> {
  return parseSlow(text, file).positions as Map<FieldPath, Loc>
}

/** The reference parse: the `yaml` package's syntax tree, walked with every check and position (exported for the tests that compare the two paths). */
export function parseSlow(text: string, file: string, name = displayName(file)): ParsedFile {
  const lineCounter = new LineCounter()
  // uniqueKeys is checked by the walker, in linear time (the yaml package's check is quadratic).
  // Numbers are read as yaml.v3 reads them (`0440` is octal): see yaml-numbers.ts.
  const docs = parseAllDocuments(text, { version: '1.2', customTags: composeNumberTags, lineCounter, uniqueKeys: false, prettyErrors: false })
  const list = Array.isArray(docs) ? docs : []
  for (const doc of list) {
    if (doc.errors.length === 0) continue
    const err = doc.errors[0]
    const pos = lineCounter.linePos(err.pos[0])
    let what = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
    if (/call stack/i.test(what)) what = `nested too deeply (more than ${MAX_DEPTH} levels)`
    throw new SpecError('yaml', `invalid YAML: ${what}`, { loc: { file: name, line: pos.line, col: pos.col } })
  }
  const positions = new Map<FieldPath, Loc>()
  const walker = new Walker(name, lineCounter, positions)
  // A file of several documents (`---`) is read as that many files, merged in order, as compose-go does.
  let data: Dict | undefined
  for (const doc of list) {
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue
    const converted = walker.convert(doc.contents as Node, '')
    if (!isPlainDict(converted)) {
      throw new SpecError('yaml', 'the top level of a compose file must be a mapping (services:, volumes:, …)', {
        loc: walker.loc(doc.contents as Node),
      })
    }
    data = data === undefined ? converted : mergeDocuments(data, converted)
  }
  // An empty file is an empty document; whether that is an error depends on the file's role (see load.ts).
  if (data === undefined) return { file, data: {}, positions, empty: true }
  return { file, data, positions, markers: walker.markers }
}

class Walker {
  /** Nodes produced so far, an alias counting as the nodes it expands to. */
  private expanded = 0
  private aliasNodes = 0
  private depth = 0
  /** Whether a `!reset` or `!override` was read: without one, later stages skip looking for them. */
  markers = false
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
    if (++this.depth > MAX_DEPTH) {
      // The path is left out: two hundred levels of it would not be one readable line.
      throw new SpecError('yaml', `invalid YAML: nested too deeply (more than ${MAX_DEPTH} levels)`, { loc: this.loc(node) })
    }
    const value = this.plain(node, path)
    this.depth--
    if (node.tag === '!reset' || node.tag === '!override') this.markers = true
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
      // compose-go refuses a key that YAML reads as a number, boolean or null, wherever it is.
      if (typeof key !== 'string') {
        throw new SpecError('yaml', `the key ${String(key)} is not a string: quote it ("${String(key)}")`, { loc: this.loc(pair.key), path })
      }
      const name = key
      if (name === '__proto__') throw new SpecError('yaml', 'the key "__proto__" is not allowed', { loc: this.loc(pair.key), path })
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        throw new SpecError('yaml', `invalid YAML: duplicate key "${name}": write each key once`, { loc: this.loc(pair.key), path: childPath(path, name) })
      }
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
      // Positions inside an anchor are recorded once, under the anchor's own path.
      const before = this.expanded
      const value = this.convert(target, path)
      cached = { value, size: this.expanded - before }
      this.aliasCache.set(target, cached)
    }
    // Counted before the next alias is expanded, so a hostile file stops early.
    this.aliasNodes += cached.size
    this.expanded += cached.size
    if (this.aliasNodes > MAX_ALIAS_NODES) {
      throw new SpecError('yaml', `aliases expand to too large a document (more than ${MAX_ALIAS_NODES} nodes): use fewer nested aliases`, { loc: this.loc(node), path })
    }
    return cached.value
  }
}


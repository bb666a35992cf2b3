import { loadAll, Schema, Type, type State } from 'js-yaml'
import { isPlainDict, type Dict } from './data.js'
import { goFloat, goFloatPattern, goInt, goIntPattern } from './yaml-numbers.js'

/**
 * The fast path of parsing a Compose file. The `yaml` package, which
 * parse.ts uses, builds a full concrete syntax tree before any value: on a
 * cold load of a large project that pass is most of the time (0.4-0.5 s of
 * ~1 s for 1,000 services). js-yaml reads straight to values in a fraction of
 * that; it is well kept and in wide use (mocha and eslint read their configs
 * with it). But parse.ts stays the reference: its messages, positions and
 * rules (Compose's numbers, keys that must be strings, `<<` merges, the alias
 * and depth caps) are what users see. So this path returns the documents
 * only when it can tell that parse.ts would return the same data, and
 * declines (undefined) otherwise; parse.ts then parses the text itself:
 * - any js-yaml error or warning (syntax, duplicate keys, bad indentation);
 * - text the two libraries may read differently, found by a cheap scan
 *   before parsing: tabs, lone CRs, a byte-order mark, `%` directives,
 *   content on a `---` or `...` line, verbatim tags, `?` explicit keys, a `#` right after a quote, bracket or
 *   comma (js-yaml takes it for a comment, the `yaml` package refuses it),
 *   an empty block sequence entry (js-yaml 4.3 lets the sequence run on
 *   into a less indented `- ` line);
 * - any tag (`!reset`, `!override`, `!!str`, a bare `!`): the schema below
 *   has no explicit types, so js-yaml refuses them all;
 * - a mapping key that is not a string scalar as written (a number, boolean
 *   or null, which js-yaml would turn into a string, an alias, a collection,
 *   an empty key), one with an anchor, `__proto__`, or longer than the
 *   `yaml` package allows; a `<<` written as a value or merging what
 *   parse.ts would refuse;
 * - an anchor name used twice or not followed by a space, a cycle through an anchor, nesting deeper
 *   than the depth cap or aliases expanding past the alias cap, counted so
 *   that the count here is never below parse.ts's.
 * Keys are recognised while js-yaml reads (its `listener` sees every node as
 * it closes): a key is the node that a `:` follows on its line, and a
 * mapping whose keys do not all have one (`{a, b}`) is declined.
 */

export interface FastLimits {
  /** parse.ts's MAX_DEPTH. */
  maxDepth: number
  /** parse.ts's MAX_ALIAS_NODES. */
  maxAliasNodes: number
}

/** The documents of `text` that hold something, in order, or undefined when parse.ts must read it. */
export function parseFast(text: string, limits: FastLimits): Dict[] | undefined {
  if (UNSUPPORTED.test(text)) return undefined
  const reader = new Reader(text, limits)
  let docs: unknown[]
  try {
    docs = loadAll(text, null, {
      schema: SCHEMA,
      onWarning: decline,
      listener: (event, state) => (event === 'open' ? reader.open(state) : reader.close(state as unknown as ReaderState)),
      // js-yaml's own cap (100 by default) would refuse files parse.ts reads.
      maxDepth: limits.maxDepth + 1,
    } as Parameters<typeof loadAll>[2])
    return reader.finish(docs)
  } catch {
    // A js-yaml error, a decline, or a stack overflow: parse.ts reads it and says what is wrong.
    return undefined
  } finally {
    mergeKeys = 0
  }
}

const UNSUPPORTED = /[\t\uFEFF]|\r(?!\n)|^%|^(?:---|\.\.\.) *[^\s]|!<|(?:^|[\s,[{])\?(?:\s|$)|["'\]},[{]#|^ *-(?: +-)* *(?:#.*)?\r?$/m

/** The YAML 1.2 core schema's plain scalars (spec 10.3.2), as the `yaml` package reads them. */
const CORE_NULL = /^(?:~|[Nn]ull|NULL)$/
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
const CORE_INF_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const CORE_FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/

/**
 * A plain `<<` becomes a string no YAML text can spell (a NUL and a random
 * part), one per occurrence so that js-yaml neither merges (parse.ts's order
 * and rules differ) nor calls two `<<` keys a duplicate; `finish` merges.
 */
const MERGE = `\0<<${Math.random().toString(36).slice(2)}:`
let mergeKeys = 0

/**
 * Tags with spaces in their names, which no YAML text can write: so `!!int`,
 * `!!str`, `!reset` and every other explicit tag is unknown to js-yaml, and
 * refused, and only plain scalars are resolved, in the order parse.ts's
 * schema tries them (yaml-numbers.ts).
 */
const plain = (name: string, test: (text: string) => boolean, construct: (text: string) => unknown) =>
  new Type(`pier plain ${name}`, { kind: 'scalar', resolve: (text: unknown) => typeof text === 'string' && test(text), construct })
const SCHEMA = new Schema({
  implicit: [
    plain('null', (t) => CORE_NULL.test(t), () => null),
    plain('bool', (t) => CORE_BOOL.test(t), (t) => t[0] === 't' || t[0] === 'T'),
    plain('int', (t) => goIntPattern.test(t), goInt),
    plain('float', (t) => goFloatPattern.test(t), goFloat),
    plain('inf-nan', (t) => CORE_INF_NAN.test(t), (t) => (t.slice(-3).toLowerCase() === 'nan' ? NaN : t[0] === '-' ? -Infinity : Infinity)),
    plain('float-exp', (t) => CORE_FLOAT_EXP.test(t), (t) => parseFloat(t)),
    plain('float-core', (t) => CORE_FLOAT.test(t), (t) => parseFloat(t)),
    plain('merge', (t) => t === '<<', () => `${MERGE}${mergeKeys++}`),
  ],
  explicit: [],
})

class Decline extends Error {}
function decline(): never {
  throw new Decline()
}

/** The fields of js-yaml's loader state read here (its typings leave out tag and anchor). */
interface ReaderState {
  position: number
  result: unknown
  tag: string | null
  anchor: string | null
  kind: 'scalar' | 'sequence' | 'mapping' | null
}

/** A node being read: what parse.ts's walker would count under it. */
interface Frame {
  start: number
  /** Nodes, an alias counting as itself plus what it expands to (never fewer than the walker counts). */
  size: number
  /** Levels, an alias counting as its target's. */
  height: number
  /** What the aliases under this node expand to: the walker walks them again when it first expands an anchor above them. */
  aliases: number
  /** Children that a `:` follows: the keys. */
  keys: number
  lastChild: unknown
}

/** A key longer than this (from its start to the `:`) is an error in the `yaml` package (1024 chars). */
const MAX_KEY = 1000

class Reader {
  private readonly stack: Frame[] = []
  /** Where each anchor name was written, so a name used twice declines (the walker resolves by latest name). */
  private readonly anchorAt = new Map<string, number>()
  private readonly anchored = new Map<object, { size: number; height: number }>()
  /** Sequences reached through an alias: `<<: *list` is refused by the walker, `<<: [..]` is not. */
  private readonly aliasedLists = new Set<unknown>()
  /** The walker's alias-node count can never exceed this. */
  private aliasTotal = 0

  constructor(private readonly text: string, private readonly limits: FastLimits) {}

  open(state: State): void {
    this.stack.push({ start: state.position, size: 1, height: 1, aliases: 0, keys: 0, lastChild: undefined })
  }

  close(state: ReaderState): void {
    const frame = this.stack.pop() as Frame
    const { kind, result, anchor } = state
    if (state.tag === '!') decline()
    let { size, height, aliases } = frame
    if (kind === null && (result !== null || this.aliasAt(frame.start, state.position))) {
      const target = typeof result === 'object' && result !== null ? this.anchored.get(result) ?? decline() : { size: 1, height: 1 }
      if (Array.isArray(result)) this.aliasedLists.add(result)
      size = 1 + target.size
      height = target.height
      aliases = target.size
      this.aliasTotal += target.size
    } else if (anchor !== null) {
      const at = this.text.indexOf(`&${anchor}`, frame.start)
      // `&a{` is an anchor then a mapping to js-yaml, an error to the `yaml` package.
      const after = this.text.charCodeAt(at + anchor.length + 1)
      if (at < 0 || !(after === 32 || after === 10 || after === 13 || Number.isNaN(after))) decline()
      if ((this.anchorAt.get(anchor) ?? at) !== at) decline()
      this.anchorAt.set(anchor, at)
      // Counted as if the anchor were aliased: its first alias walks it again.
      this.aliasTotal += aliases
      if (typeof result === 'object' && result !== null) this.anchored.set(result, { size, height })
    }
    if (this.aliasTotal > this.limits.maxAliasNodes || this.stack.length + height > this.limits.maxDepth) decline()
    // js-yaml reads `- {a}` twice (once as a would-be key): the outer read has the inner one's result.
    if (kind === 'mapping' && result !== frame.lastChild && Object.keys(result as Dict).length !== frame.keys) decline()
    const parent = this.stack[this.stack.length - 1]
    if (this.colonAfter(state.position)) {
      if (kind !== 'scalar' || typeof result !== 'string' || anchor !== null || result === '__proto__' || state.position - frame.start > MAX_KEY) decline()
      if (parent) parent.keys++
    }
    if (!parent) return
    parent.size += size
    parent.height = Math.max(parent.height, height + 1)
    parent.aliases += aliases
    parent.lastChild = result
  }

  /** A `:` after the node on its line: the node is a mapping key. */
  private colonAfter(position: number): boolean {
    let i = position
    while (this.text.charCodeAt(i) === 32) i++
    return this.text.charCodeAt(i) === 58
  }

  /** Whether a node that read as null was an alias (`*name`), not an empty node. */
  private aliasAt(from: number, to: number): boolean {
    for (let i = from; i < to; i++) {
      const c = this.text.charCodeAt(i)
      if (c === 32 || c === 10 || c === 13) continue
      if (c !== 35) return c === 42
      while (i < to && this.text.charCodeAt(i) !== 10) i++
    }
    return false
  }

  /** The documents as parse.ts builds them: merges applied its way, `<<` checked. */
  finish(docs: unknown[]): Dict[] {
    const merger = new Merger(this.aliasedLists)
    const out: Dict[] = []
    for (const doc of docs) {
      if (doc === null) continue
      if (!isPlainDict(doc)) decline()
      out.push(merger.value(doc) as Dict)
    }
    return out
  }
}

/**
 * Applies `<<` as parse.ts's walker does: explicit keys first, in the order
 * written, then each merged mapping's keys that are not already there (`in`,
 * so a merged `constructor` is skipped as there). Values reached twice
 * (aliases) are converted once and stay shared, so an alias-heavy file costs
 * its size, not its expansion.
 */
class Merger {
  private readonly done = new Map<object, unknown>()
  private readonly busy = new Set<object>()

  constructor(private readonly aliasedLists: Set<unknown>) {}

  value(value: unknown): unknown {
    if (typeof value === 'string') {
      if (value.charCodeAt(0) === 0 && value.startsWith(MERGE)) decline()
      return value
    }
    if (typeof value !== 'object' || value === null) return value
    const seen = this.done.get(value)
    if (seen !== undefined) return seen
    if (this.busy.has(value)) decline()
    this.busy.add(value)
    let out: unknown
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.value(value[i])
      out = value
    } else {
      out = this.mapping(value as Dict)
    }
    this.busy.delete(value)
    this.done.set(value, out)
    return out
  }

  private mapping(map: Dict): Dict {
    const keys = Object.keys(map)
    if (mergeKeys === 0 || !keys.some(isMergeKey)) {
      for (const key of keys) map[key] = this.value(map[key])
      return map
    }
    const out: Dict = {}
    const merged: Dict[] = []
    for (const key of keys) {
      if (!isMergeKey(key)) {
        out[key] = this.value(map[key])
        continue
      }
      const value = map[key]
      const sources = Array.isArray(value) && !this.aliasedLists.has(value) ? value : [value]
      for (const source of sources) {
        const converted = this.value(source)
        if (!isPlainDict(converted)) decline()
        merged.push(converted)
      }
    }
    for (const source of merged) {
      for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = v
    }
    return out
  }
}

function isMergeKey(key: string): boolean {
  return key.charCodeAt(0) === 0 && key.startsWith(MERGE)
}

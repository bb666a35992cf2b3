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
 * declines (undefined) otherwise, for parse.ts to read the text itself:
 * - any js-yaml error or warning (syntax, duplicate keys, bad indentation);
 * - text the libraries may read differently (UNSUPPORTED, a cheap scan);
 * - any tag (`!reset`, `!override`, `!!str`, a bare `!`): the schema below
 *   has no explicit types, so js-yaml refuses them all;
 * - a mapping key that is not a string scalar as written (a number, boolean
 *   or null, which js-yaml would turn into a string; an alias, a collection,
 *   an empty key), a key with an anchor, `__proto__`, or longer than the
 *   `yaml` package allows;
 * - a `<<` written as a value, or merging what parse.ts would refuse;
 * - an anchor name used twice or not followed by a space, a cycle through
 *   an anchor, nesting deeper than the depth cap, or aliases expanding past
 *   the alias cap, counted so that the count here is never below parse.ts's.
 * Keys are recognised while js-yaml reads (its `listener` sees every node as
 * it closes): a key is a node that a `:` follows on its line, and a mapping
 * whose keys do not all have one (`{a, b}`) is declined.
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
  try {
    const docs = loadAll(text, null, {
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
  }
}

/** Text the two libraries may read differently: cheaper to leave to parse.ts than to prove the same. */
const UNSUPPORTED = new RegExp(
  [
    '[\\t\\uFEFF]', // tabs (the two disagree on where they may be), a byte-order mark
    '\\r(?!\\n)', // a CR that is not part of a CRLF
    '^%', // directives (`%YAML 1.1` changes the schema)
    '^(?:---|\\.\\.\\.) *[^\\s]', // content on a document marker's line (`--- a: b`)
    '!<', // verbatim tags (`!<?>` would pass as no tag)
    '(?:^|[\\s,[{])\\?(?:\\s|$)', // `?` explicit keys
    `["'\\]},[{]#`, // a `#` right after a quote, bracket or comma: a comment to js-yaml, an error to the `yaml` package
    '^ *-(?: +-)* *(?:#.*)?\\r?$', // an empty block sequence entry: js-yaml 4.3 runs the sequence on into a less indented `- ` line
  ].join('|'),
  'm',
)

/** The YAML 1.2 core schema's plain scalars (spec 10.3.2), as the `yaml` package reads them. */
const CORE_NULL = /^(?:~|[Nn]ull|NULL)$/
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
const CORE_INF_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const CORE_FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/

/**
 * A plain `<<` key becomes a string no YAML text can spell (a NUL and a
 * random part), so that js-yaml does not merge (parse.ts's order and rules
 * differ) and `finish` merges instead. It is one string for the whole file,
 * so mappings keep one shape in V8; a mapping with two `<<` keys is then a
 * duplicate key to js-yaml, and declined (parse.ts reads it).
 */
const MERGE = `\0<<${Math.random().toString(36).slice(2)}`

/** What the plain scalar last resolved to: js-yaml calls `construct` right after `resolve`, on the same text. */
let resolved: unknown

/**
 * A plain scalar as parse.ts's schema reads it: the core schema's null and
 * booleans, Compose's numbers (yaml-numbers.ts), then the core schema's
 * floats, tried in the order that schema tries them; anything else stays a
 * string. Only a few first characters can begin one of these, and most
 * plain scalars (names, images, paths) begin with none of them.
 */
function resolvePlain(text: string): boolean {
  const first = text.charCodeAt(0)
  // `+` to `9` (signs, `.`, digits), `~`, n N t T f F (null, true, false), `<` (`<<`).
  if (!(first >= 43 && first <= 57) && ![126, 110, 78, 116, 84, 102, 70, 60].includes(first)) return false
  if (CORE_NULL.test(text)) resolved = null
  else if (CORE_BOOL.test(text)) resolved = first === 116 || first === 84
  else if (goIntPattern.test(text)) resolved = goInt(text)
  else if (goFloatPattern.test(text)) resolved = goFloat(text)
  else if (CORE_INF_NAN.test(text)) resolved = text.slice(-3).toLowerCase() === 'nan' ? NaN : first === 45 ? -Infinity : Infinity
  else if (CORE_FLOAT_EXP.test(text) || CORE_FLOAT.test(text)) resolved = parseFloat(text)
  else if (text === '<<') resolved = MERGE
  else return false
  return true
}

/**
 * One implicit type, under a tag with spaces in its name, which no YAML text
 * can write; and no explicit types: so `!!int`, `!!str`, `!reset` and every
 * other tag is unknown to js-yaml, and refused.
 */
const SCHEMA = new Schema({
  implicit: [new Type('pier plain scalar', { kind: 'scalar', resolve: (text: unknown) => typeof text === 'string' && resolvePlain(text), construct: () => resolved })],
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

/** A node being read: what parse.ts's walker would count under it. Frames are reused, one per depth. */
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
  /** A `<<` key in this node or under it. */
  merges: boolean
  lastChild: unknown
}

/** What an anchored node holds, for its aliases. */
interface Anchored {
  size: number
  height: number
  merges: boolean
}

/** A key longer than this (from its start to the `:`) is an error in the `yaml` package (1024 chars). */
const MAX_KEY = 1000

class Reader {
  private readonly frames: Frame[] = []
  private depth = 0
  /** Where each anchor name was written, so a name used twice declines (the walker resolves by latest name). */
  private readonly anchorAt = new Map<string, number>()
  private readonly anchored = new Map<object, Anchored>()
  /** Sequences reached through an alias: `<<: *list` is refused by the walker, `<<: [..]` is not. */
  private readonly aliasedLists = new Set<unknown>()
  /** Collections with a `<<` key in or under them: the only ones `finish` has to visit. */
  private readonly merging = new Set<object>()
  /** The walker's alias-node count can never exceed this. */
  private aliasTotal = 0

  constructor(private readonly text: string, private readonly limits: FastLimits) {}

  open(state: State): void {
    const frame = (this.frames[this.depth++] ??= { start: 0, size: 0, height: 0, aliases: 0, keys: 0, merges: false, lastChild: undefined })
    frame.start = state.position
    frame.size = 1
    frame.height = 1
    frame.aliases = 0
    frame.keys = 0
    frame.merges = false
    frame.lastChild = undefined
  }

  close(state: ReaderState): void {
    const frame = this.frames[--this.depth]
    const { kind, result, anchor } = state
    if (state.tag === '!') decline()
    let { size, height, aliases, merges } = frame
    if (kind === null && (result !== null || this.aliasAt(frame.start, state.position))) {
      const target = typeof result === 'object' && result !== null ? this.anchored.get(result) ?? decline() : SCALAR
      if (Array.isArray(result)) this.aliasedLists.add(result)
      size = 1 + target.size
      height = target.height
      aliases = target.size
      merges = target.merges
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
      if (typeof result === 'object' && result !== null) this.anchored.set(result, { size, height, merges })
    }
    if (this.aliasTotal > this.limits.maxAliasNodes || this.depth + height > this.limits.maxDepth) decline()
    // js-yaml reads `- {a}` twice (once as a would-be key): the outer read has the inner one's result.
    if (kind === 'mapping' && result !== frame.lastChild && Object.keys(result as Dict).length !== frame.keys) decline()
    if (merges && typeof result === 'object' && result !== null) this.merging.add(result)
    const parent = this.depth > 0 ? this.frames[this.depth - 1] : undefined
    if (this.colonAfter(state.position)) {
      if (kind !== 'scalar' || typeof result !== 'string' || anchor !== null || result === '__proto__' || state.position - frame.start > MAX_KEY) decline()
      if (parent) parent.keys++
      if (parent && result === MERGE) parent.merges = true
    } else if (result === MERGE) {
      // A plain `<<` value: parse.ts reads the string "<<"; too rare to restore here.
      decline()
    }
    if (!parent) return
    parent.size += size
    parent.height = Math.max(parent.height, height + 1)
    parent.aliases += aliases
    parent.merges ||= merges
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

  /** The documents as parse.ts builds them, merges applied its way. */
  finish(docs: unknown[]): Dict[] {
    const merger = new Merger(this.merging, this.aliasedLists)
    const out: Dict[] = []
    for (const doc of docs) {
      if (doc === null) continue
      if (!isPlainDict(doc)) decline()
      out.push(merger.value(doc) as Dict)
    }
    return out
  }
}

const SCALAR: Anchored = { size: 1, height: 1, merges: false }

/**
 * Applies `<<` as parse.ts's walker does: explicit keys first, in the order
 * written, then each merged mapping's keys that are not already there (`in`,
 * so a merged `constructor` is skipped as there). Only collections with a
 * `<<` in or under them are visited; one reached twice (aliases) is merged
 * once and stays shared, so an alias-heavy file costs its size, not its
 * expansion. There are no cycles here: an alias to an anchor still open was
 * declined.
 */
class Merger {
  private readonly done = new Map<object, unknown>()

  constructor(private readonly merging: Set<object>, private readonly aliasedLists: Set<unknown>) {}

  value(value: unknown, inList = false): unknown {
    if (typeof value !== 'object' || value === null) return value
    // A `[k: v]` pair is a mapping js-yaml reads no node for (so not in `merging`): visited whenever its list is.
    if (!this.merging.has(value) && !(inList && isPlainDict(value))) return value
    let out = this.done.get(value)
    if (out !== undefined) return out
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.value(value[i], true)
      out = value
    } else {
      out = this.mapping(value as Dict)
    }
    this.done.set(value, out)
    return out
  }

  private mapping(map: Dict): Dict {
    if (!Object.prototype.hasOwnProperty.call(map, MERGE)) {
      for (const key of Object.keys(map)) map[key] = this.value(map[key])
      return map
    }
    const out: Dict = {}
    let merged: Dict[] = []
    for (const key of Object.keys(map)) {
      if (key !== MERGE) {
        out[key] = this.value(map[key])
        continue
      }
      const value = map[key]
      const list = Array.isArray(value) && !this.aliasedLists.has(value)
      merged = (list ? value : [value]).map((source) => {
        const converted = this.value(source, list)
        if (!isPlainDict(converted)) decline()
        return converted
      })
    }
    for (const source of merged) {
      for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = v
    }
    return out
  }
}

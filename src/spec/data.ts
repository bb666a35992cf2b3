/**
 * The plain data a Compose file becomes once parsed: mappings, lists and
 * scalars, plus two markers for the merge tags. `!reset` (drop the value
 * inherited from earlier files) and `!override` (replace it instead of
 * merging) survive parsing as Reset and Override; the merge consumes them and
 * `stripMarkers` removes whatever is left.
 */
export class Reset {}
export class Override {
  constructor(readonly value: unknown) {}
}

export type Dict = Record<string, unknown>

export function isPlainDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Reset) && !(value instanceof Override)
}

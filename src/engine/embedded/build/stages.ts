import { EngineError } from '../../errors.js'
import type { Stage } from './dockerfile.js'
import { expand } from './words.js'

/**
 * The stage a reference names, if it names one: `FROM base`, `COPY
 * --from=base`, `--mount=from=base`. A name (case-insensitive, as Docker's)
 * or a number counts only for stages defined before `before`: Docker reads
 * a later name as an image.
 */
export function stageNamed(stages: Stage[], ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase()
  const byName = stages.find((s) => s.index < before && s.name === lower)
  if (byName) return byName
  return /^\d+$/.test(ref) && Number(ref) < before ? stages[Number(ref)] : undefined
}

/** The stage references of a stage: its FROM, each COPY/ADD --from and RUN --mount from=. */
export function dependencies(stages: Stage[], stage: Stage, globals: Record<string, string>): Stage[] {
  const refs = [expand(stage.from.args[0], globals)]
  for (const i of stage.steps) {
    if ((i.keyword === 'COPY' || i.keyword === 'ADD') && i.flags.from) refs.push(expand(i.flags.from, globals))
    if (i.keyword === 'RUN') for (const [name, value] of i.flagList) if (name === 'mount') {
      const from = /(?:^|,)from=([^,]+)/.exec(value)?.[1]
      if (from) refs.push(from)
    }
  }
  return refs.map((r) => stageNamed(stages, r, stage.index)).filter((s): s is Stage => !!s)
}

/**
 * The stages to build for `target` (a stage name; the last stage when
 * none), in Dockerfile order: the target and what it depends on, nothing
 * else, as BuildKit skips stages the target does not need.
 */
export function stagesFor(stages: Stage[], target: string | undefined, globals: Record<string, string>): Stage[] {
  let last = stages.at(-1)!
  if (target) {
    const found = stages.find((s) => s.name === target.toLowerCase())
    if (!found) throw new EngineError('invalid', `build target "${target}" is not a stage of the Dockerfile (stages: ${stages.map((s) => s.name).filter(Boolean).join(', ') || 'none named'})`)
    last = found
  }
  const needed = new Set<Stage>()
  const visit = (s: Stage) => {
    if (needed.has(s)) return
    needed.add(s)
    for (const d of dependencies(stages, s, globals)) visit(d)
  }
  visit(last)
  return stages.filter((s) => needed.has(s))
}

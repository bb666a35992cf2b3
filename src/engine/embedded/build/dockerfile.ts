import { DockerfileParser } from 'dockerfile-ast'
import { EngineError } from '../../errors.js'

/**
 * A Dockerfile as the steps of one stage, variables not yet expanded.
 * Parsing is dockerfile-ast's (the parser behind VS Code's Dockerfile
 * support): line continuations, comments, escape directives, JSON and shell
 * forms are its job, not pier's.
 */
export interface Instruction {
  keyword: string
  /** The arguments as written, after the flags. */
  args: string[]
  /** The JSON (exec) form's strings, when the instruction uses it. */
  json?: string[]
  /** Everything after the keyword and flags, as one string (shell form). */
  text: string
  /** `--name=value` flags. */
  flags: Record<string, string>
  /** ENV, ARG, LABEL: key/value pairs as the parser split them. */
  properties: [string, string | undefined][]
  line: number
}

export interface ParsedDockerfile {
  /** ARGs before the first FROM: usable in FROM lines. */
  globalArgs: Instruction[]
  /** The stage to build (the target, else the last), FROM first. */
  stage: Instruction[]
}

const SUPPORTED = new Set(['FROM', 'ARG', 'ENV', 'LABEL', 'WORKDIR', 'USER', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'STOPSIGNAL', 'VOLUME', 'COPY', 'ADD', 'RUN', 'SHELL', 'MAINTAINER'])

export function parseDockerfile(text: string, target?: string): ParsedDockerfile {
  const doc = DockerfileParser.parse(text)
  const all: Instruction[] = doc.getInstructions().map((i) => {
    const anyI = i as unknown as {
      getJSONStrings?: () => { getJSONValue(): string }[]
      getFlags?: () => { getName(): string; getValue(): string | null }[]
      getProperties?: () => { getName(): string; getValue(): string | null }[]
      getArgumentsContent(): string | null
    }
    const flags = Object.fromEntries((anyI.getFlags?.() ?? []).map((f) => [f.getName(), f.getValue() ?? '']))
    const json = anyI.getJSONStrings?.().map((s) => s.getJSONValue())
    const raw = anyI.getArgumentsContent() ?? ''
    return {
      keyword: i.getKeyword().toUpperCase(),
      args: i.getArguments().map((a) => a.getValue()).filter((a) => !a.startsWith('--') || !(a.slice(2).split('=')[0] in flags)),
      ...(json && json.length && raw.trim().startsWith('[') ? { json } : {}),
      text: raw.replace(/^(\s*--[a-z-]+=?\S*\s+)+/, '').trim(),
      flags,
      properties: (anyI.getProperties?.() ?? []).map((p) => [p.getName(), p.getValue() ?? undefined] as [string, string | undefined]),
      line: i.getRange().start.line + 1,
    }
  })
  for (const i of all) {
    if (!SUPPORTED.has(i.keyword)) throw new EngineError('unsupported', `Dockerfile line ${i.line}: ${i.keyword} is not supported by pier's builder`)
  }
  const firstFrom = all.findIndex((i) => i.keyword === 'FROM')
  if (firstFrom < 0) throw new EngineError('invalid', 'the Dockerfile has no FROM instruction')
  const globalArgs = all.slice(0, firstFrom)
  const bad = globalArgs.find((i) => i.keyword !== 'ARG')
  if (bad) throw new EngineError('invalid', `Dockerfile line ${bad.line}: only ARG may come before the first FROM`)
  const stages: Instruction[][] = []
  for (const i of all.slice(firstFrom)) {
    if (i.keyword === 'FROM') stages.push([i])
    else stages.at(-1)!.push(i)
  }
  const named = (s: Instruction[]) => (s[0].args[1]?.toUpperCase() === 'AS' ? s[0].args[2] : undefined)
  let stage = stages.at(-1)!
  if (target) {
    const found = stages.find((s) => named(s) === target)
    if (!found) throw new EngineError('invalid', `build target "${target}" is not a stage of the Dockerfile (stages: ${stages.map(named).filter(Boolean).join(', ') || 'none named'})`)
    stage = found
  }
  const stageNames = new Set(stages.map(named).filter(Boolean))
  if (stageNames.has(stage[0].args[0])) throw new EngineError('unsupported', `Dockerfile line ${stage[0].line}: building FROM another stage is not supported by pier's builder yet`)
  const copyFrom = stage.find((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && 'from' in i.flags)
  if (copyFrom) throw new EngineError('unsupported', `Dockerfile line ${copyFrom.line}: COPY --from is not supported by pier's builder yet`)
  return { globalArgs, stage }
}

/**
 * Docker's variable substitution in Dockerfile words: $V, ${V}, ${V:-word},
 * ${V:+word}, \$ for a literal dollar.
 */
export function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced, op, word, bare) => {
    if (m === '\\$') return '$'
    const name = braced ?? bare
    const value = vars[name]
    if (op === '-') return value ? value : word
    if (op === '+') return value ? word : ''
    return value ?? ''
  })
}

import { DockerfileParser } from 'dockerfile-ast'
import { EngineError } from '../../errors.js'

/**
 * A Dockerfile as stages of steps, variables not yet expanded. Parsing is
 * dockerfile-ast's (the parser behind VS Code's Dockerfile support): line
 * continuations, comments, parser directives (`# syntax=` is one: read and
 * ignored, pier has one frontend), escape, JSON and shell forms, heredoc
 * extents are its job, not pier's.
 */
export interface Instruction {
  keyword: string
  /** The arguments as written, after the flags. */
  args: string[]
  /** The JSON (exec) form's strings, when the instruction uses it. */
  json?: string[]
  /** Everything after the keyword and flags, as one string (shell form, heredoc bodies included). */
  text: string
  /** `--name=value` flags (the last of a repeated one). */
  flags: Record<string, string>
  /** Every flag in order: `--mount` may be given several times. */
  flagList: [string, string][]
  /** ENV, ARG, LABEL: key/value pairs as the parser split them. */
  properties: [string, string | undefined][]
  /** `<<EOF` documents, in order, with their bodies. */
  heredocs: Heredoc[]
  line: number
}

export interface Heredoc {
  name: string
  body: string
  /** `<<"EOF"` / `<<'EOF'`: the body is taken as written, no variables expanded. */
  quoted: boolean
}

export interface Stage {
  index: number
  /** `FROM … AS name`, lower-cased as Docker compares stage names. */
  name?: string
  from: Instruction
  steps: Instruction[]
}

export interface ParsedDockerfile {
  /** ARGs before the first FROM: usable in FROM lines. */
  globalArgs: Instruction[]
  stages: Stage[]
}

const SUPPORTED = new Set(['FROM', 'ARG', 'ENV', 'LABEL', 'WORKDIR', 'USER', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'STOPSIGNAL', 'VOLUME', 'COPY', 'ADD', 'RUN', 'SHELL', 'MAINTAINER'])

export function parseDockerfile(text: string): ParsedDockerfile {
  const doc = DockerfileParser.parse(text)
  const all: Instruction[] = doc.getInstructions().map((i) => {
    const anyI = i as unknown as {
      getJSONStrings?: () => { getJSONValue(): string }[]
      getFlags?: () => { getName(): string; getValue(): string | null }[]
      getProperties?: () => { getName(): string; getValue(): string | null }[]
      getArgumentsContent(): string | null
    }
    const flagList = (anyI.getFlags?.() ?? []).map((f) => [f.getName(), f.getValue() ?? ''] as [string, string])
    const flags = Object.fromEntries(flagList)
    const raw = anyI.getArgumentsContent() ?? ''
    const content = raw.replace(/^(\s*--[a-z-]+=?\S*\s+)+/, '').trim()
    // The exec form read as JSON: dockerfile-ast's JSON strings drop the spaces inside them ("cat /f" came back "cat/f").
    const json = anyI.getJSONStrings ? execForm(content) : undefined
    return {
      keyword: i.getKeyword().toUpperCase(),
      args: i.getArguments().map((a) => a.getValue()).filter((a) => !a.startsWith('--') || !(a.slice(2).split('=')[0] in flags)),
      ...(json && json.length ? { json } : {}),
      text: content,
      flags,
      flagList,
      properties: (anyI.getProperties?.() ?? []).map((p) => [p.getName(), p.getValue() ?? undefined] as [string, string | undefined]),
      heredocs: heredocs(content),
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
  const stages: Stage[] = []
  for (const i of all.slice(firstFrom)) {
    if (i.keyword !== 'FROM') {
      stages.at(-1)!.steps.push(i)
      continue
    }
    if (i.args.length !== 1 && !(i.args.length === 3 && i.args[1].toUpperCase() === 'AS')) throw new EngineError('invalid', `Dockerfile line ${i.line}: FROM takes an image and an optional "AS name"`)
    const name = i.args[2]?.toLowerCase()
    if (name && stages.some((s) => s.name === name)) throw new EngineError('invalid', `Dockerfile line ${i.line}: a stage named "${name}" is already defined`)
    stages.push({ index: stages.length, ...(name ? { name } : {}), from: i, steps: [] })
  }
  return { globalArgs, stages }
}

/** `["a", "b c"]`: the strings, when the text is a JSON list of strings; else undefined (shell form). */
function execForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined
  try {
    const value = JSON.parse(text) as unknown
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * The heredocs of an instruction's text (dockerfile-ast 0.7 finds their
 * names but gives no bodies, so pier cuts them from the text itself): the first line names them
 * (`<<EOF`, `<<-EOF`, `<<"EOF"`), the following lines are their bodies, each
 * ended by a line that is the name alone. `<<-` strips leading tabs, as sh does.
 */
function heredocs(text: string): Heredoc[] {
  const [first, ...rest] = text.split('\n')
  const out: Heredoc[] = []
  for (const m of first.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
    const end = rest.findIndex((l) => (m[1] ? l.replace(/^\t+/, '') : l) === m[3])
    const lines = end < 0 ? rest.splice(0) : rest.splice(0, end + 1).slice(0, -1)
    out.push({ name: m[3], body: lines.map((l) => (m[1] ? l.replace(/^\t+/, '') : l)).join('\n') + (lines.length ? '\n' : ''), quoted: m[2] !== '' })
  }
  return out
}

// Kept here for callers that read a Dockerfile; words.ts has it without the parser.
export { expand } from './words.js'

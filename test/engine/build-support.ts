import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BuildSpec } from '../../src/engine/engine.js'
import { engineWithBusybox, specFor } from '../support/containers.js'

/** An engine with busybox, a fresh context, a build that keeps its output, and a way to read what an image holds. */
export async function buildBench() {
  const env = await engineWithBusybox()
  const context = mkdtempSync(join(tmpdir(), 'pier-context-'))
  const lines: string[] = []
  let n = 0
  const build = (dockerfile: string, extra: Partial<BuildSpec> = {}) => {
    lines.length = 0
    return env.engine.buildImage({ context, dockerfileInline: dockerfile, args: {}, labels: {}, tags: [`built:${++n}`], ...extra }, { output: (l) => lines.push(l) })
  }
  /** Runs `script` in a container of `image` and returns its output lines. */
  const shell = async (image: string, script: string) => {
    const c = await env.engine.createContainer(specFor(`check-${++n}`, ['sh', '-c', script], { image }))
    await env.engine.start(c.id)
    await env.engine.wait(c.id)
    const out: string[] = []
    for await (const l of env.engine.logs(c.id)) out.push(l.text)
    await env.engine.remove(c.id)
    return out
  }
  const cleanup = async () => {
    rmSync(context, { recursive: true, force: true })
    await env.cleanup()
  }
  return { env, context, lines, build, shell, cleanup }
}

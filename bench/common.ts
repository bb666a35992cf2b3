import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const pierBin = join(repoRoot, 'bin', 'pier.js')

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** A whole command's wall time in milliseconds; a failure stops the bench, with its error output. */
export function timed(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const start = performance.now()
  const r = spawnSync(command, args, { env, encoding: 'utf8' })
  const took = performance.now() - start
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`)
  return took
}

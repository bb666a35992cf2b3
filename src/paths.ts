import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Where pier's files are: the package root (the directory of its
 * package.json), found by walking up from this module. It holds whether pier
 * runs from its compiled modules (dist/src/…) or from the one-file bundle
 * (dist/pier.cjs), which sit at different depths.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('pier: cannot find its package.json')
    dir = parent
  }
  return dir
}

export const packageRoot = findRoot()

/** A file of the build output, by its path under dist/. */
export function distPath(...parts: string[]): string {
  return join(packageRoot, 'dist', ...parts)
}

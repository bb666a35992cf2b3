import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CANARY = 'canary: must stay as it is\n'
const CANARY_TIME = new Date(1_600_000_000_000)

/**
 * A temporary directory for a hostile input, with canaries: files and
 * directories of known content and times placed where the input must not
 * reach. `intact()` checks none of them was read into, written, touched or
 * removed, and that nothing new appeared beside them.
 */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'pier-hostile-'))
  private readonly canaries: string[] = []

  path(...parts: string[]): string {
    return join(this.dir, ...parts)
  }

  mkdir(...parts: string[]): string {
    const path = this.path(...parts)
    mkdirSync(path, { recursive: true })
    return path
  }

  /** A canary file at `parts` (its directory made), and a canary directory `<file>.d` beside it. */
  canary(...parts: string[]): string {
    const path = this.path(...parts)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, CANARY)
    mkdirSync(`${path}.d`)
    for (const p of [path, `${path}.d`]) utimesSync(p, CANARY_TIME, CANARY_TIME)
    this.canaries.push(path)
    return path
  }

  intact(): void {
    for (const path of this.canaries) {
      assert.equal(readFileSync(path, 'utf8'), CANARY, `${path} was written`)
      for (const p of [path, `${path}.d`]) assert.equal(statSync(p).mtimeMs, CANARY_TIME.getTime(), `${p} was touched`)
      assert.deepEqual(readdirSync(`${path}.d`), [], `something was written into ${path}.d`)
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** An assertion on a rejection: an error with a user-facing one-line message (no stack, no "bug in pier"). */
export function oneLine(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    const e = err as Error & { code?: string }
    assert.equal(e?.constructor?.name, 'EngineError', `not an EngineError: ${e?.stack ?? e}`)
    assert.ok(!e.message.includes('\n'), `more than one line: ${JSON.stringify(e.message)}`)
    assert.match(e.message, pattern)
    return true
  }
}

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { EngineError } from '../../errors.js'
import { runCommand } from '../../../network/commands.js'

/**
 * The OCI runtime pier drives: PIER_RUNTIME if set, else the first of runc
 * and crun that is installed and works on this host (crun refuses hybrid
 * cgroup hierarchies, so it is probed, not assumed). State lives in the
 * runtime's own root under the engine root, so pier's containers never mix
 * with another tool's.
 */
export class Runtime {
  private constructor(
    readonly binary: string,
    readonly stateDir: string,
  ) {}

  static detect(stateDir: string): Runtime {
    const wanted = process.env.PIER_RUNTIME
    const candidates = wanted ? [wanted] : ['runc', 'crun']
    for (const binary of candidates) {
      // runc found on PATH is taken without running it: a probe was a process (~20 ms) at every command, `ps` included.
      if (binary === 'runc' && !wanted && onPath(binary)) return new Runtime(binary, stateDir)
      const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' })
      if (probe.status === 0 && (binary !== 'crun' || crunWorks())) return new Runtime(binary, stateDir)
    }
    throw new EngineError('runtime', wanted ? `the runtime "${wanted}" (PIER_RUNTIME) does not run here` : 'no OCI runtime found: install runc (apt-get install runc)')
  }

  /** The argv prefix for a runtime command, its state root included. */
  args(...rest: string[]): string[] {
    return ['--root', this.stateDir, ...rest]
  }

  /** A short runtime command (kill, delete, list, state), through the command shells (network/commands.ts). */
  async run(...rest: string[]): Promise<{ stdout: string; stderr: string }> {
    const result = await runCommand(this.binary, this.args(...rest))
    if (result.code !== 0) {
      const message = (result.stderr.trim() || `exit code ${result.code}`).split('\n').pop()
      throw new EngineError('runtime', `${this.binary} ${rest[0]} failed: ${cleanRuntimeMessage(message ?? '')}`)
    }
    return result
  }

  /** The runtime's view of every container it knows, by ID: one call for a whole listing. */
  async list(): Promise<Map<string, string>> {
    // runc list fails as a whole when a container's state directory goes away
    // while it reads them (a delete, or a container's run ending): read again.
    for (let attempt = 0; ; attempt++) {
      try {
        const { stdout } = await this.run('list', '--format', 'json')
        const entries = (JSON.parse(stdout || 'null') as { id: string; status: string }[] | null) ?? []
        return new Map(entries.map((e) => [e.id, e.status]))
      } catch (err) {
        if (attempt >= 5 || !/no such file or directory/i.test((err as Error).message)) throw err
        await new Promise((r) => setTimeout(r, 10))
      }
    }
  }

  /** The runtime's view of a container, or undefined when it does not know it. */
  async state(id: string): Promise<{ status: string; pid: number } | undefined> {
    try {
      const { code, stdout } = await runCommand(this.binary, this.args('state', id))
      return code === 0 ? JSON.parse(stdout) : undefined
    } catch {
      return undefined
    }
  }
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, binary)))
}

function crunWorks(): boolean {
  // crun fails on hybrid cgroup layouts ("cgroups in hybrid mode not supported"); a v1/hybrid host keeps runc.
  const probe = spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' })
  return probe.stdout.trim() === 'cgroup2fs'
}

/** runc's JSON log lines ("level=error msg=…") turned into the message alone. */
export function cleanRuntimeMessage(text: string): string {
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(text)?.[1]
  return (msg ?? text).replace(/\\"/g, '"')
}

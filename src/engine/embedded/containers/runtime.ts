import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { EngineError } from '../../errors.js'

const exec = promisify(execFile)

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
      const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' })
      if (probe.status === 0 && (binary !== 'crun' || crunWorks())) return new Runtime(binary, stateDir)
    }
    throw new EngineError('runtime', wanted ? `the runtime "${wanted}" (PIER_RUNTIME) does not run here` : 'no OCI runtime found: install runc (apt-get install runc)')
  }

  /** The argv prefix for a runtime command, its state root included. */
  args(...rest: string[]): string[] {
    return ['--root', this.stateDir, ...rest]
  }

  async run(...rest: string[]): Promise<{ stdout: string; stderr: string }> {
    try {
      return await exec(this.binary, this.args(...rest), { maxBuffer: 64 * 1024 * 1024 })
    } catch (err: any) {
      const message = String(err?.stderr || err?.message || err).trim().split('\n').pop()
      throw new EngineError('runtime', `${this.binary} ${rest[0]} failed: ${cleanRuntimeMessage(message ?? '')}`)
    }
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
      const { stdout } = await exec(this.binary, this.args('state', id))
      return JSON.parse(stdout)
    } catch {
      return undefined
    }
  }
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

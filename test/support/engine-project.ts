import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pier, TempProject, type RunResult } from './helpers.js'
import { busyboxImage, dockerArchive } from './images.js'

/**
 * A project directory and an engine root of its own, with the busybox test
 * image loaded: what every CLI test that runs containers starts from.
 * `run` is pier in the project; `dispose` takes the project down and removes
 * both directories, also when the test failed.
 */
export class EngineProject {
  readonly root = mkdtempSync(join(tmpdir(), 'pier-root-'))
  readonly work: TempProject

  private constructor(files: Record<string, string>) {
    this.work = new TempProject(files)
  }

  static async create(files: Record<string, string> = {}): Promise<EngineProject> {
    const project = new EngineProject(files)
    writeFileSync(project.work.path('busybox.tar'), await dockerArchive([await busyboxImage()]))
    assert.equal(project.run(['image', 'load', '-i', 'busybox.tar']).status, 0)
    return project
  }

  run(args: string[], input?: string): RunResult {
    return pier(args, { cwd: this.work.dir, env: { PIER_ROOT: this.root }, ...(input !== undefined ? { input } : {}) })
  }

  /** The environment for a pier process the test spawns itself. */
  env(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '', PIER_ROOT: this.root, PIER_NO_CACHE: '1' }
  }

  /** `down` takes one-offs only with --remove-orphans (as Compose does): a test's cleanup always adds it. */
  dispose(down = ['down', '-t', '0']): void {
    try {
      this.run(down[0] === 'down' && !down.includes('--remove-orphans') ? [...down, '--remove-orphans'] : down)
    } finally {
      this.work.cleanup()
      rmSync(this.root, { recursive: true, force: true })
    }
  }
}

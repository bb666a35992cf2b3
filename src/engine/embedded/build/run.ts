import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContainerSpec } from '../../engine.js'
import { defaultContainerSpec } from '../../defaults.js'
import { EngineError } from '../../errors.js'
import { mountRootfs, unmountRootfs } from '../containers/rootfs.js'
import { hostLimits, runtimeSpec } from '../containers/spec.js'
import { resolveUser } from '../containers/users.js'
import type { ConfigJson } from '../images/oci.js'
import type { BuildContext } from './builder.js'
import type { Instruction } from './dockerfile.js'
import { upperEntries, type LayerEntry } from './layer.js'

/** What the runtime mounts over the rootfs during a RUN; left out of the layer when they are just empty mount points. */
const MOUNT_POINTS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf']

/** A `RUN --mount`, resolved to a host path. */
export interface RunMount {
  source: string
  target: string
  readOnly: boolean
}

export interface RunStep {
  /** Unpacked layer directories, bottom first. */
  layers: string[]
  config: NonNullable<ConfigJson['config']>
  env: Record<string, string>
  argv: string[]
  mounts: RunMount[]
  instruction: Instruction
  /** `build.network`: default and host are the host's network, none a namespace with loopback alone. */
  network?: string
  shmSize?: number
  extraHosts?: Record<string, string[]>
}

/** How many of a failed step's last output lines its error report repeats. */
const TAIL = 10

/**
 * A RUN step: runc on an overlay of the layers so far; the upper directory,
 * read once the run is over, is the new layer's content (returned before
 * the overlay is cleared away, so `commit` writes it).
 */
export async function runStep(ctx: BuildContext, step: RunStep, commit: (entries: LayerEntry[]) => Promise<void>): Promise<void> {
  const i = step.instruction
  const id = `build-${randomBytes(8).toString('hex')}`
  const dir = ctx.root.temp('build')
  const paths = { upper: join(dir, 'upper'), work: join(dir, 'work'), rootfs: join(dir, 'bundle', 'rootfs'), etc: join(dir, 'etc') }
  for (const p of Object.values(paths)) await mkdir(p, { recursive: true })
  try {
    if (step.layers.length === 0) throw new EngineError('invalid', `Dockerfile line ${i.line}: RUN needs something to run on: FROM scratch has no files yet (COPY a shell in first)`)
    await mountRootfs(step.layers, paths.upper, paths.work, paths.rootfs)
    const user = await resolveUser(step.config.User, step.layers)
    const etc = { hosts: join(paths.etc, 'hosts'), hostname: join(paths.etc, 'hostname'), resolvConf: join(paths.etc, 'resolv.conf') }
    const extra = Object.entries(step.extraHosts ?? {}).flatMap(([host, addresses]) => addresses.map((a) => `${a}\t${host}\n`)).join('')
    await writeFile(etc.hosts, (await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n')).replace(/\n?$/, '\n') + extra)
    await writeFile(etc.hostname, 'buildkit\n')
    await writeFile(etc.resolvConf, await readFile('/etc/resolv.conf', 'utf8').catch(() => ''))
    const vars = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: user.home, ...step.env }
    const mounts = step.mounts.map((m) => ({ source: m.source, target: m.target, type: 'bind' as const, options: ['rbind', 'rprivate', ...(m.readOnly ? ['ro'] : [])] }))
    const configJson = runtimeSpec({ id, spec: runSpec(id, step), user, env: Object.entries(vars).map(([k, v]) => `${k}=${v}`), workingDir: step.config.WorkingDir || '/', rootfs: paths.rootfs, etc, mounts, hostLimits: await hostLimits() })
    await writeFile(join(dir, 'bundle', 'config.json'), JSON.stringify(configJson))
    await new Promise<void>((done, fail) => {
      const child = spawn(ctx.runtime.binary, ctx.runtime.args('run', '--bundle', join(dir, 'bundle'), id), { stdio: ['ignore', 'pipe', 'pipe'] })
      const tail: string[] = []
      const lines = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          ctx.output(line)
          tail.push(line)
          if (tail.length > TAIL) tail.shift()
        }
      }
      child.stdout.on('data', lines)
      child.stderr.on('data', lines)
      child.on('error', fail)
      child.on('close', (c) => {
        if (c === 0) return done()
        // As BuildKit reports it: the step's last lines in a box, then one line that says what failed.
        ctx.output(`ERROR: process "${step.argv.join(' ')}" did not complete successfully: exit code: ${c}`)
        if (tail.length) ctx.output(['------', ...tail.map((l) => ` > ${l}`), '------'].join('\n'))
        fail(new EngineError('runtime', `Dockerfile line ${i.line}: RUN ${i.text.split('\n')[0]} failed with exit code ${c}${tail.length ? `: ${tail.at(-1)}` : ''}`))
      })
    })
    await unmountRootfs(paths.rootfs)
    // Mount targets runc made (empty) are not the step's doing: left out, as the runtime's own are.
    await commit(await upperEntries(paths.upper, [...MOUNT_POINTS, ...step.mounts.map((m) => m.target.replace(/^\/+/, ''))]))
  } finally {
    await ctx.runtime.run('delete', '--force', id).catch(() => undefined)
    await unmountRootfs(paths.rootfs).catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}

/** The container a RUN step is: the host's network (as `docker build` gives a build the network), no init, Docker's confinement. */
function runSpec(name: string, step: RunStep): ContainerSpec {
  return { ...defaultContainerSpec(name, '', step.argv), networkMode: step.network === 'none' ? 'none' : 'host', ...(step.shmSize ? { shmSize: step.shmSize } : {}) }
}

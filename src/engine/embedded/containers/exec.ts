import { readFile } from 'node:fs/promises'
import type { ExecSpec, ProcessList } from '../../engine.js'
import type { Runtime } from './runtime.js'
import { allCapabilities } from './spec.js'
import type { ContainerRecord } from './state.js'
import { runCollected, runWithStdio } from './stdio.js'
import { resolveUserInRoot } from './users.js'

/**
 * Runs a process in a running container (`runc exec`). Its user is resolved
 * in the container's files as they are now, with the container's group_add,
 * as Docker's exec does. Without `stdio`, its output is collected and
 * returned; with it, it streams (see runWithStdio for terminals).
 */
export async function execIn(runtime: Runtime, rootfs: string, record: ContainerRecord, spec: ExecSpec): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const user = await resolveUserInRoot(spec.user ?? record.spec.user, rootfs, record.spec.groupAdd)
  const args = ['exec', '--user', `${user.uid}:${user.gid}`]
  if (spec.tty) args.push('--tty')
  if (spec.detach) args.push('--detach')
  for (const g of user.additionalGids) args.push('--additional-gids', String(g))
  for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`)
  if (spec.workingDir) args.push('--cwd', spec.workingDir)
  if (spec.privileged) for (const cap of allCapabilities()) args.push('--cap', cap)
  if (spec.detach) {
    await runtime.run(...args, record.id, ...spec.argv)
    return { exitCode: 0, stdout: '', stderr: '' }
  }
  const argv = runtime.args(...args, record.id, ...spec.argv)
  if (!spec.stdio) return runCollected(runtime.binary, argv)
  const exitCode = await runWithStdio(runtime.binary, argv, !!spec.tty, spec.stdio, { keepStdinPiped: true })
  return { exitCode, stdout: '', stderr: '' }
}

/** The container's processes, as `docker top` lists them (from /proc, the pids from the runtime). */
export async function processList(runtime: Runtime, id: string): Promise<ProcessList> {
  const pids = JSON.parse((await runtime.run('ps', '--format', 'json', id)).stdout) as number[]
  const processes: string[][] = []
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
    const field = (name: string) => status.split('\n').find((l) => l.startsWith(`${name}:`))?.split(/\s+/)[1] ?? ''
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ')
    processes.push([field('Uid'), String(pid), field('PPid'), cmdline])
  }
  return { titles: ['UID', 'PID', 'PPID', 'CMD'], processes }
}

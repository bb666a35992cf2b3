/**
 * Loaded into pier's Node processes by the cost bench (NODE_OPTIONS
 * --import): appends one line per process they spawn (pid and program) to
 * the file PIER_BENCH_SPAWNS names. Every asynchronous spawn (spawn,
 * execFile, exec) goes through ChildProcess.prototype.spawn, and the
 * monitor inherits NODE_OPTIONS, so its spawns are counted too; runc's own
 * children are not (they cost pier no main-thread time). At its exit, each
 * of them adds its own CPU time: `<pid> cpu <script> <ms>`.
 */
import { appendFileSync } from 'node:fs'
import { ChildProcess } from 'node:child_process'
import childProcess from 'node:child_process'

const log = process.env.PIER_BENCH_SPAWNS
if (log) {
  const line = (file: string) => appendFileSync(log, `${process.pid} ${file.split('/').pop()}\n`)
  // Not in Node's types, but the one way every asynchronous spawn goes.
  const proto = ChildProcess.prototype as unknown as { spawn: (options: { file: string }) => unknown }
  const spawn = proto.spawn
  proto.spawn = function (this: ChildProcess, options: { file: string }) {
    line(options.file)
    return spawn.call(this, options)
  }
  const spawnSync = childProcess.spawnSync
  childProcess.spawnSync = ((file: string, ...rest: unknown[]) => {
    line(file)
    return (spawnSync as (...a: unknown[]) => unknown)(file, ...rest)
  }) as typeof childProcess.spawnSync
  // And the process's own CPU time (its main thread's work, Node's start included), at its exit.
  process.on('exit', () => {
    const cpu = process.cpuUsage()
    appendFileSync(log, `${process.pid} cpu ${process.argv[1]?.split('/').pop()} ${Math.round((cpu.user + cpu.system) / 1000)}\n`)
  })
  const { syncBuiltinESMExports } = await import('node:module')
  syncBuiltinESMExports()
}

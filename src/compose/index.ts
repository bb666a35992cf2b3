/**
 * The orchestration layer: one verb a file, each taking a Context (engine,
 * reporter, AbortSignal) and a loaded Project, never touching `process`.
 * The CLI is a thin layer of flags over these; library users reach them
 * through library.ts's typed lifecycle.
 */
export type { Context, Reporter } from './context.js'
export { ensureImages, buildServices, builtImageName, type ImageOptions, type PullPolicy } from './images.js'
export { up, type UpOptions, type UpResult } from './up.js'
export { down, type DownOptions } from './down.js'
export { createOneOff, type RunOptions } from './run.js'
export { start, stop, restart, kill, rm, pause, unpause, wait, top, containersOf, requireServices, isRunning } from './containers.js'
export { logs, followLogs, type LogEntry, type LogConsumer, type LogsOptions } from './logs.js'
export { attach, Attacher, displayName, stopAll, type AttachEvents, type AttachOptions, type AttachResult } from './attach.js'
export { exec, runningReplica, type ExecOptions } from './exec.js'
export { ps, port, STATES, type PsOptions } from './ps.js'
export { waitForServices } from './wait.js'
export { watch, watchedRules, type WatchOptions } from './watch.js'
export { runPlan, resourceOf, StepFailure } from './run-plan.js'
export { load, up as upProject, LoadedProject, StartedProject, ServiceHandle, type ProjectSource, type EngineChoice, type EnvironmentOptions } from './library.js'
export { commitService, exportService, login, logout, search, type CommitOptions } from './image-commands.js'
export { wait as waitStrategies, WaitError, waitUntilReady, type WaitStrategy } from './waits.js'

/**
 * pier on Docker Swarm: a Compose project deployed as Swarm services through
 * a manager's Docker Engine API. Services are not containers, so this stands
 * beside src/compose rather than behind the engine contract: translate.ts
 * maps Compose to Swarm's specs, refuse.ts says what cannot be run,
 * reconcile.ts decides, up.ts/down.ts/ps.ts/logs.ts act, wait.ts waits.
 */
export { SwarmClient } from './api.js'
export { SwarmError } from './errors.js'
export { up, type UpOptions, type UpResult } from './up.js'
export { down } from './down.js'
export { ps, type TaskRow } from './ps.js'
export { logs, type LogLine } from './logs.js'

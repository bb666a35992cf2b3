import { PierError } from '../errors.js'

/** A project Swarm cannot run as written, or a swarm that is not in a state to run it: one line, nothing made. */
export class SwarmError extends PierError {
  readonly code = 'swarm'
}

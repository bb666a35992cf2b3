import { PierError } from '../errors.js'

export type PlanErrorCode = 'cycle' | 'invalid' | 'not-found' | 'unsupported'

/** A project that cannot be planned: a dependency cycle, a conflicting request. */
export class PlanError extends PierError {
  constructor(
    readonly code: PlanErrorCode,
    message: string,
  ) {
    super(message)
  }
}

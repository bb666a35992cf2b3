import { PierError } from '../errors.js'

export type EngineErrorCode =
  | 'not-found' // an image, container, volume or network that does not exist
  | 'conflict' // a name in use, a resource still in use
  | 'invalid' // a bad reference, archive or argument
  | 'registry' // a registry refused or failed
  | 'integrity' // a digest that does not match its content
  | 'platform' // no image for the wanted platform
  | 'unsupported' // something this engine cannot do
  | 'runtime' // the OCI runtime or the kernel refused

/** A failure of an engine call, worded for the user (what, which resource, why). */
export class EngineError extends PierError {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

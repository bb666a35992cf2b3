import { PierError } from '../errors.js'

/**
 * What a conversion could not carry over. Every Compose field that has no
 * Kubernetes meaning is named here, one line each, never dropped silently:
 * the CLI prints them on stderr, and `--strict` turns any of them into an
 * error.
 */
export class Warnings {
  readonly lines: string[] = []

  /** A service's field: `service "web": build is not converted (push an image and set image:)`. */
  service(service: string, field: string, why: string): void {
    this.add(`service "${service}": ${field} ${why}`)
  }

  /** A top-level object's field: `network "back": driver is not converted (…)`. */
  object(kind: 'network' | 'volume' | 'secret' | 'config', name: string, field: string, why: string): void {
    this.add(`${kind} "${name}": ${field} ${why}`)
  }

  add(line: string): void {
    if (!this.lines.includes(line)) this.lines.push(line)
  }
}

/** The project cannot be converted as it is (a name collision, a secret file that cannot be read, --strict). */
export class ConversionError extends PierError {
  readonly code = 'conversion'
}

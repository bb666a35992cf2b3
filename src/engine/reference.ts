import { EngineError } from './errors.js'

/**
 * An image reference as Docker normalizes it: `busybox` is
 * `docker.io/library/busybox:latest`, `user/app` is `docker.io/user/app:latest`,
 * and a first component with a `.` or `:` (or `localhost`) names a registry.
 */
export interface Reference {
  /** `docker.io`, `localhost:5000`, … */
  registry: string
  /** The repository path in the registry: `library/busybox`. */
  repository: string
  tag?: string
  digest?: string
}

const DEFAULT_REGISTRY = 'docker.io'
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,}$/

export function parseReference(text: string): Reference {
  const invalid = (why: string): never => {
    throw new EngineError('invalid', `invalid image reference "${text}": ${why}`)
  }
  if (text === '') invalid('it is empty')
  let rest = text
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) invalid(`"${digest}" is not a digest (sha256:<64 hex digits>)`)
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) invalid(`"${tag}" is not a valid tag`)
  }
  const parts = rest.split('/')
  let registry = DEFAULT_REGISTRY
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library')
  for (const part of parts) {
    if (!COMPONENT.test(part)) invalid(`"${part}" must be lower-case letters, digits and separators (. _ -)`)
  }
  if (tag === undefined && digest === undefined) tag = 'latest'
  return { registry, repository: parts.join('/'), tag, digest }
}

/** `registry/repository` — the name without tag or digest. */
export function repositoryName(ref: Reference): string {
  return `${ref.registry}/${ref.repository}`
}

/** The full normalized form: `docker.io/library/busybox:latest`, `…@sha256:…`. */
export function formatReference(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`
}

/** The short form Docker shows: `busybox:latest`, `user/app:1`, `localhost:5000/x:y`. */
export function familiarName(normalized: string): string {
  return normalized.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '')
}

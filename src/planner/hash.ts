import { createHash } from 'node:crypto'
import type { Service } from '../spec/project.js'

/**
 * The config hash of a service: what its containers were made from. A
 * container whose hash differs from its service's is recreated; anything not
 * in the hash can change without a new container. Left out, as Compose leaves
 * them out: the replica count (scale, deploy.replicas), the depends_on restart
 * flags, how the image is obtained (build, pull_policy) — a new image is seen
 * by its ID instead — and profiles.
 */
export function configHash(service: Service): string {
  const { scale: _scale, build: _build, pull_policy: _pull, profiles: _profiles, depends_on, deploy, ...rest } = service
  const hashed: Record<string, unknown> = { ...rest }
  hashed.depends_on = Object.fromEntries(Object.entries(depends_on).map(([name, d]) => [name, { condition: d.condition, required: d.required }]))
  if (deploy) {
    const { replicas: _replicas, ...deployRest } = deploy
    hashed.deploy = deployRest
  }
  return createHash('sha256').update(canonical(hashed)).digest('hex')
}

/** JSON with keys sorted at every level, so equal configs always hash the same. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

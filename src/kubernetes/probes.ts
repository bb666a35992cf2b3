import type { Healthcheck } from '../spec/project.js'
import type { Probe } from './types.js'

/**
 * A Compose healthcheck as Kubernetes probes.
 *
 * Compose's health means "ready": Docker never restarts an unhealthy
 * container, it only marks it (and `depends_on: service_healthy` waits for
 * the mark). That is a readinessProbe: the pod gets no Service traffic until
 * the check passes, and again when it fails `retries` times in a row.
 * `start_period` needs nothing of its own there: a readinessProbe has no
 * penalty for failing before its first success. With `liveness` (Swarm's
 * meaning: replace an unhealthy task) the same check also becomes a
 * livenessProbe, behind a startupProbe that gives the container its
 * start_period before liveness counts.
 */

/** Compose's defaults (compose-spec: interval 30s, timeout 30s, retries 3, start_interval 5s). */
const DEFAULT = { interval: 30_000, timeout: 30_000, retries: 3, startInterval: 5_000 }

export interface Probes {
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
}

/** The exec command of a healthcheck test; undefined when there is none to run (NONE, or the image's own). */
export function probeCommand(test: string[] | undefined): string[] | undefined {
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined
  if (test[0] === 'CMD') return test.slice(1)
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')]
  return ['/bin/sh', '-c', test.join(' ')]
}

export function probes(healthcheck: Healthcheck | undefined, liveness: boolean): Probes {
  const command = healthcheck && !healthcheck.disable ? probeCommand(healthcheck.test) : undefined
  if (!healthcheck || !command) return {}
  const period = seconds(healthcheck.interval ?? DEFAULT.interval)
  const readinessProbe: Probe = {
    exec: { command },
    periodSeconds: period,
    timeoutSeconds: seconds(healthcheck.timeout ?? DEFAULT.timeout),
    failureThreshold: Math.max(1, healthcheck.retries ?? DEFAULT.retries),
  }
  if (!liveness) return { readinessProbe }
  const startPeriod = healthcheck.start_period ?? 0
  if (startPeriod === 0) return { readinessProbe, livenessProbe: { ...readinessProbe } }
  // Checks run every start_interval during start_period; a success ends it, and failures there do not count.
  const startEvery = seconds(healthcheck.start_interval ?? DEFAULT.startInterval)
  const startupProbe: Probe = { ...readinessProbe, periodSeconds: startEvery, failureThreshold: Math.max(1, Math.ceil(startPeriod / 1000 / startEvery)) + readinessProbe.failureThreshold }
  return { readinessProbe, livenessProbe: { ...readinessProbe }, startupProbe }
}

/** Milliseconds as whole seconds, at least 1 (probes count in seconds and refuse 0). */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

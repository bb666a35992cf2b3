import type { ImageConfig } from './engine.js'

/** An image's run configuration as OCI image configs and Docker's API both spell it. */
export interface RunConfigJson {
  Env?: string[] | null
  Entrypoint?: string[] | null
  Cmd?: string[] | null
  WorkingDir?: string
  User?: string
  ExposedPorts?: Record<string, unknown> | null
  Volumes?: Record<string, unknown> | null
  Labels?: Record<string, string> | null
  StopSignal?: string
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number }
}

/** Nanoseconds (as image configs store durations) to milliseconds; 0 means unset. */
const ms = (ns?: number) => (ns === undefined || ns === 0 ? undefined : ns / 1e6)

/** The parts of an image's configuration pier runs containers from: one mapping for every driver. */
export function imageConfigOf(c: RunConfigJson = {}): ImageConfig {
  const h = c.Healthcheck
  return {
    env: c.Env ?? [],
    ...(c.Entrypoint ? { entrypoint: c.Entrypoint } : {}),
    ...(c.Cmd ? { cmd: c.Cmd } : {}),
    ...(c.WorkingDir ? { workingDir: c.WorkingDir } : {}),
    ...(c.User ? { user: c.User } : {}),
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    volumes: Object.keys(c.Volumes ?? {}),
    labels: c.Labels ?? {},
    ...(c.StopSignal ? { stopSignal: c.StopSignal } : {}),
    ...(h
      ? {
          healthcheck: {
            ...(h.Test ? { test: h.Test } : {}),
            interval: ms(h.Interval),
            timeout: ms(h.Timeout),
            startPeriod: ms(h.StartPeriod),
            startInterval: ms(h.StartInterval),
            retries: h.Retries || undefined,
          },
        }
      : {}),
  }
}

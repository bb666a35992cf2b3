import { posix } from 'node:path'
import { EngineError } from '../../errors.js'
import { parseDuration } from '../../../spec/units.js'
import type { ConfigJson } from '../images/oci.js'
import type { Instruction } from './dockerfile.js'

export type Config = NonNullable<ConfigJson['config']>

/** What a stage carries from step to step besides the image config. */
export interface StageState {
  config: Config
  /** ARGs declared in this stage, with their values. */
  args: Record<string, string>
  shell: string[]
  /** The CMD came from the base image (an ENTRYPOINT then drops it, as Docker does). */
  cmdFromBase: boolean
}

export function envOf(config: Config): Record<string, string> {
  return Object.fromEntries((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
}

/**
 * The steps that change only the image config (and the stage's ARGs and
 * SHELL): no layer, nothing to run. Returns false for the others.
 */
export function applyConfigStep(state: StageState, i: Instruction, word: (s: string) => string, buildArgs: Record<string, string>, globals: Record<string, string>): boolean {
  const config = state.config
  switch (i.keyword) {
    case 'ARG':
      for (const [k, v] of i.properties) state.args[k] = buildArgs[k] ?? (v !== undefined ? word(v) : globals[k] ?? '')
      return true
    case 'ENV': {
      const current = envOf(config)
      for (const [k, v] of i.properties) current[k] = word(v ?? '')
      config.Env = Object.entries(current).map(([k, v]) => `${k}=${v}`)
      return true
    }
    case 'LABEL':
      config.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(i.properties.map(([k, v]) => [word(k), word(v ?? '')])) }
      return true
    case 'MAINTAINER':
      return true
    case 'USER':
      config.User = word(i.text)
      return true
    case 'EXPOSE':
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}), ...Object.fromEntries(i.args.map((p) => [word(p).includes('/') ? word(p) : `${word(p)}/tcp`, {}])) }
      return true
    case 'CMD':
      config.Cmd = i.json ?? [...state.shell, i.text]
      state.cmdFromBase = false
      return true
    case 'ENTRYPOINT':
      config.Entrypoint = i.json ?? [...state.shell, i.text]
      if (state.cmdFromBase) config.Cmd = null
      return true
    case 'SHELL':
      if (!i.json?.length) throw new EngineError('invalid', `Dockerfile line ${i.line}: SHELL takes the JSON form, such as ["/bin/sh", "-c"]`)
      state.shell = i.json
      return true
    case 'STOPSIGNAL':
      config.StopSignal = word(i.text)
      return true
    case 'VOLUME':
      config.Volumes = { ...(config.Volumes ?? {}), ...Object.fromEntries((i.json ?? i.args).map((v) => [word(v), {}])) }
      return true
    case 'HEALTHCHECK':
      config.Healthcheck = healthcheck(i)
      return true
    default:
      return false
  }
}

/** WORKDIR's directory, absolute (relative to the one before). */
export function workdirOf(config: Config, word: (s: string) => string, i: Instruction): string {
  return posix.resolve(config.WorkingDir || '/', word(i.text))
}

function healthcheck(i: Instruction): NonNullable<Config['Healthcheck']> {
  if (i.args[0]?.toUpperCase() === 'NONE') return { Test: ['NONE'] }
  const rest = i.text.replace(/^CMD\s+/i, '')
  const json = rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : undefined
  // Image configs keep durations in nanoseconds.
  const ns = (flag: string): Record<string, number> => {
    if (i.flags[flag] === undefined) return {}
    const ms = parseDuration(i.flags[flag])
    if (ms === undefined) throw new EngineError('invalid', `Dockerfile line ${i.line}: --${flag}=${i.flags[flag]} is not a duration`)
    const key = flag.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')
    return { [key]: ms * 1e6 }
  }
  return {
    Test: json ? ['CMD', ...json] : ['CMD-SHELL', rest],
    ...ns('interval'),
    ...ns('timeout'),
    ...ns('start-period'),
    ...ns('start-interval'),
    ...(i.flags.retries !== undefined ? { Retries: Number(i.flags.retries) } : {}),
  }
}

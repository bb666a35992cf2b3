import type { BuildSpec } from '../engine/engine.js'
import { EngineError } from '../engine/errors.js'
import { PlanError } from '../planner/errors.js'
import type { Project, Service } from '../spec/project.js'

/**
 * The parts of a service's `build:` past the context and Dockerfile, as
 * the engine's BuildSpec takes them: named contexts (`service:NAME` becomes
 * that service's image, which `needs` lists so it is built first), the RUN
 * steps' network, /dev/shm size and extra hosts, and build secrets (the
 * project's file or environment secrets, by the id a Dockerfile's
 * `RUN --mount=type=secret,id=…` names: the reference's target, else its
 * source). `ssh` is refused in one line: pier's builder forwards no agent.
 */
export function buildOptions(project: Project, service: Service, imageOf: (service: Service) => string): { options: Partial<BuildSpec>; needs: string[] } {
  const build = service.build!
  const at = `service "${service.name}": build`
  if (build.ssh?.length) throw new EngineError('unsupported', `${at}.ssh is not supported: pier's builder forwards no SSH agent; fetch what needs it before the build, or use build secrets`)
  if (build.network !== undefined && !['default', 'host', 'none'].includes(build.network)) throw new EngineError('unsupported', `${at}.network "${build.network}" is not supported: use default, host or none`)
  const cycle = contextCycle(project, service.name, [])
  if (cycle) throw new PlanError('invalid', `${at}.additional_contexts: the services' contexts form a cycle (${cycle.join(' -> ')})`)
  const options: Partial<BuildSpec> = {}
  const needs: string[] = []
  if (build.additional_contexts && Object.keys(build.additional_contexts).length) {
    const contexts: Record<string, string> = {}
    for (const [name, value] of Object.entries(build.additional_contexts)) {
      if (value.startsWith('service:')) {
        const other = project.services[value.slice(8)]
        if (!other?.build && !other?.image) throw new PlanError('invalid', `${at}.additional_contexts.${name}: no service "${value.slice(8)}" with an image or a build`)
        if (other.name === service.name) throw new PlanError('invalid', `${at}.additional_contexts.${name}: a service cannot be its own context`)
        if (other.build) needs.push(other.name)
        contexts[name] = `docker-image://${imageOf(other)}`
      } else if (value.startsWith('docker-image://') || value.startsWith('/')) {
        contexts[name] = value
      } else {
        throw new EngineError('unsupported', `${at}.additional_contexts.${name}: "${value}" is not supported: give a directory, docker-image://REF or service:NAME`)
      }
    }
    options.additionalContexts = contexts
  }
  if (build.network !== undefined) options.network = build.network
  if (build.shm_size !== undefined) options.shmSize = Number(build.shm_size)
  if (build.extra_hosts && Object.keys(build.extra_hosts).length) options.extraHosts = build.extra_hosts
  if (build.secrets?.length) {
    const secrets: NonNullable<BuildSpec['secrets']> = {}
    for (const ref of build.secrets) {
      const secret = project.secrets[ref.source]
      if (!secret) throw new PlanError('invalid', `${at}.secrets: no secret "${ref.source}" at the top level of the project`)
      const id = ref.target ?? ref.source
      if (secret.file) secrets[id] = { file: secret.file }
      else if (secret.environment !== undefined) {
        const value = project.environment[secret.environment]
        if (value === undefined) throw new PlanError('invalid', `${at}.secrets: the secret "${ref.source}" reads the variable ${secret.environment}, which is not set`)
        secrets[id] = { value }
      } else throw new PlanError('invalid', `${at}.secrets: the secret "${ref.source}" has neither file nor environment`)
    }
    options.secrets = secrets
  }
  return { options, needs }
}

/** A chain of `service:` contexts that comes back to where it started, if any. */
function contextCycle(project: Project, name: string, chain: string[]): string[] | undefined {
  if (chain.includes(name)) return [...chain.slice(chain.indexOf(name)), name]
  for (const value of Object.values(project.services[name]?.build?.additional_contexts ?? {})) {
    if (!value.startsWith('service:')) continue
    const found = contextCycle(project, value.slice(8), [...chain, name])
    if (found) return found
  }
  return undefined
}

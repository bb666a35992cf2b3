import type { Fail } from './cast.js'
import type { Project, Service } from './project.js'
import { closest } from './suggest.js'

/**
 * Checks what the schema cannot: every name a service refers to exists
 * (services, volumes, networks, secrets, configs), and attributes that
 * exclude each other are not combined. Runs on the active services, after
 * profiles: a dependency on a service whose profile is off is an error unless
 * it is marked `required: false`, and then it is dropped.
 */
export function checkReferences(project: Project, fail: Fail): void {
  const defined = new Set([...Object.keys(project.services), ...Object.keys(project.disabledServices)])
  const active = project.services
  const unknownService = (path: string, name: string, what: string): never => {
    if (defined.has(name)) {
      const profiles = project.disabledServices[name]?.profiles ?? []
      return fail(path, `${what} "${name}", which is not enabled: enable its profile with --profile ${profiles[0] ?? ''}`.trimEnd())
    }
    const guess = closest(name, defined)
    return fail(path, `${what} "${name}", which is not defined${guess ? `: did you mean "${guess}"?` : ''}`)
  }

  const containerNames = new Map<string, string>()
  for (const [name, service] of Object.entries(active)) {
    const at = (attr: string) => `services.${name}.${attr}`
    if (service.image === undefined && service.build === undefined) {
      fail(`services.${name}`, `service "${name}" has neither an image nor a build: add image: or build:`)
    }

    for (const [dep, d] of Object.entries(service.depends_on)) {
      if (dep in active) continue
      if (!d.required && defined.has(dep)) {
        delete service.depends_on[dep]
        continue
      }
      unknownService(`${at('depends_on')}.${dep}`, dep, 'depends on')
    }
    for (const link of service.links ?? []) {
      const target = link.split(':')[0]
      if (!(target in active)) unknownService(at('links'), target, 'links to')
    }
    for (const from of service.volumes_from ?? []) {
      if (from.startsWith('container:')) continue
      const target = from.split(':')[0]
      if (!(target in active)) unknownService(at('volumes_from'), target, 'takes volumes from')
    }
    for (const attr of ['network_mode', 'ipc', 'pid'] as const) {
      const value = service[attr]
      if (typeof value === 'string' && value.startsWith('service:') && !(value.slice(8) in active)) {
        unknownService(at(attr), value.slice(8), `uses ${attr} of service`)
      }
    }
    if (service.network_mode !== undefined && service.networks !== undefined) {
      fail(at('network_mode'), `network_mode and networks exclude each other in service "${name}": keep one`)
    }

    for (const [i, mount] of service.volumes.entries()) {
      if (mount.type === 'volume' && mount.source !== undefined && !(mount.source in project.volumes)) {
        const guess = closest(mount.source, Object.keys(project.volumes))
        fail(`${at('volumes')}[${i}]`, `service "${name}" uses the volume "${mount.source}", which is not declared: add it under the top-level volumes:${guess ? ` (or did you mean "${guess}"?)` : ''}`)
      }
    }
    for (const network of Object.keys(service.networks ?? {})) {
      if (!(network in project.networks)) {
        fail(`${at('networks')}.${network}`, `service "${name}" uses the network "${network}", which is not declared: add it under the top-level networks:`)
      }
    }
    for (const kind of ['secrets', 'configs'] as const) {
      for (const [i, ref] of (service[kind] ?? []).entries()) {
        if (!(ref.source in project[kind])) {
          fail(`${at(kind)}[${i}]`, `service "${name}" uses the ${kind.slice(0, -1)} "${ref.source}", which is not declared: add it under the top-level ${kind}:`)
        }
      }
    }

    checkScale(name, service, fail)
    if (service.container_name !== undefined) {
      const other = containerNames.get(service.container_name)
      if (other) fail(at('container_name'), `services "${other}" and "${name}" both use container_name "${service.container_name}"`)
      containerNames.set(service.container_name, name)
    }
  }

  for (const kind of ['secrets', 'configs'] as const) {
    for (const [key, obj] of Object.entries(project[kind])) {
      const sources = [obj.file, obj.environment, obj.content, obj.external ? true : undefined].filter((s) => s !== undefined)
      if (sources.length === 0) fail(`${kind}.${key}`, `${kind.slice(0, -1)} "${key}" needs one of file:, environment:${kind === 'configs' ? ', content:' : ''} or external:`)
    }
  }
}

const MAX_REPLICAS = 10_000

function checkScale(name: string, service: Service, fail: Fail): void {
  const replicas = service.deploy?.replicas
  if (service.scale !== undefined && replicas !== undefined && service.scale !== replicas) {
    fail(`services.${name}.scale`, `scale (${service.scale}) and deploy.replicas (${replicas}) disagree in service "${name}": keep one`)
  }
  const count = service.scale ?? replicas ?? 1
  const attr = service.scale !== undefined ? 'scale' : 'deploy.replicas'
  if (count < 0) fail(`services.${name}.${attr}`, `${attr} cannot be negative`)
  // A bound, so `scale: 1e20` is an error line and not an allocation that aborts Node.
  if (count > MAX_REPLICAS) fail(`services.${name}.${attr}`, `${attr} ${count} is more than pier runs for one service (${MAX_REPLICAS})`)
  if (count > 1 && service.container_name !== undefined) {
    fail(`services.${name}.container_name`, `service "${name}" sets container_name, so it cannot run ${count} replicas: remove container_name or the scale`)
  }
}

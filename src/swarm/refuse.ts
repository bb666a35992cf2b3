import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Project, Service } from '../spec/project.js'
import type { SwarmClient } from './api.js'
import { SwarmError } from './errors.js'

/**
 * What a project asks that Swarm cannot give, found before anything is made.
 * Each refusal is one line naming the service and the field, never a silent
 * drop (docker stack deploy ignores many of these).
 */

/** Service fields a Swarm task cannot honour, with what to do instead. */
const UNSUPPORTED: [field: string, why: string][] = [
  ['build', 'Swarm runs images from a registry: build and push the image (`pier build && pier push`), then drop build'],
  ['privileged', 'Swarm services cannot be privileged: grant the capabilities needed with cap_add'],
  ['network_mode', 'Swarm services join networks: use networks'],
  ['devices', 'Swarm services cannot map devices'],
  ['container_name', 'Swarm names tasks itself (SERVICE.SLOT)'],
  ['links', 'Swarm services find each other by name on a shared network: drop links'],
  ['external_links', 'Swarm services find each other by name on a shared network'],
  ['volumes_from', 'Swarm tasks cannot share another container\'s volumes: use a named volume'],
  ['ipc', 'Swarm services cannot share an IPC namespace'],
  ['pid', 'Swarm services cannot share a PID namespace'],
  ['uts', 'Swarm services cannot share a UTS namespace'],
  ['userns_mode', 'Swarm services cannot choose a user namespace'],
  ['cgroup', 'Swarm services cannot choose a cgroup namespace'],
  ['cgroup_parent', 'Swarm places task cgroups itself'],
  ['security_opt', 'Swarm services cannot set security options'],
  ['mac_address', 'Swarm assigns addresses itself'],
  ['domainname', 'Swarm services cannot set a domain name: use hostname'],
  ['runtime', 'Swarm runs tasks with the node\'s default runtime'],
  ['storage_opt', 'Swarm services cannot set storage options'],
  ['shm_size', 'Swarm services cannot size /dev/shm: mount a tmpfs there'],
  ['cpuset', 'Swarm services cannot pin CPUs: use deploy.resources'],
  ['cpu_shares', 'use deploy.resources'],
  ['cpu_quota', 'use deploy.resources.limits.cpus'],
  ['cpu_period', 'use deploy.resources.limits.cpus'],
  ['cpu_rt_period', 'Swarm services have no real-time scheduling'],
  ['cpu_rt_runtime', 'Swarm services have no real-time scheduling'],
  ['cpu_count', 'use deploy.resources.limits.cpus'],
  ['cpu_percent', 'use deploy.resources.limits.cpus'],
  ['memswap_limit', 'use deploy.resources.limits.memory'],
  ['mem_swappiness', 'Swarm services cannot set swappiness'],
  ['oom_kill_disable', 'Swarm services cannot disable the OOM killer'],
  ['oom_score_adj', 'Swarm services cannot adjust their OOM score'],
  ['post_start', 'Swarm has no lifecycle hooks'],
  ['pre_stop', 'Swarm has no lifecycle hooks'],
  ['gpus', 'use deploy.resources.reservations.generic_resources'],
  ['blkio_config', 'Swarm services cannot set block I/O weights'],
]

/** One line per field Swarm cannot honour, over the services to deploy. */
export function unsupportedFields(project: Project): string[] {
  const out: string[] = []
  for (const service of Object.values(project.services)) {
    for (const [field, why] of UNSUPPORTED) if (isSet(service[field])) out.push(`service ${service.name}: ${field} is not supported by Swarm (${why})`)
    if (!service.image) out.push(`service ${service.name}: has no image; Swarm runs images from a registry`)
    for (const p of service.ports) {
      if (p.host_ip) out.push(`service ${service.name}: ports: a host IP (${p.host_ip}) is not supported by Swarm: it publishes on every address of a node`)
      if (p.published?.includes('-')) out.push(`service ${service.name}: ports: a published range (${p.published}) is not supported by Swarm: list the ports`)
    }
    for (const [net, opts] of Object.entries(service.networks ?? {})) {
      if (opts?.ipv4_address || opts?.ipv6_address) out.push(`service ${service.name}: networks.${net}: a fixed address is not supported by Swarm`)
    }
    for (const [name, d] of Object.entries(service.depends_on)) {
      if (d.condition === 'service_completed_successfully') out.push(`service ${service.name}: depends_on ${name}: service_completed_successfully is not supported by Swarm (services run until removed)`)
    }
    const mode = service.deploy?.mode
    if (mode && mode !== 'replicated' && mode !== 'global') out.push(`service ${service.name}: deploy.mode ${mode} is not supported by pier on Swarm: use replicated or global`)
    for (const m of service.volumes) if (m.type !== 'volume' && m.type !== 'bind' && m.type !== 'tmpfs') out.push(`service ${service.name}: volumes: a ${m.type} mount is not supported by Swarm`)
  }
  for (const [key, n] of Object.entries(project.networks)) {
    if (!n.external && n.driver && n.driver !== 'overlay') out.push(`network ${key}: driver ${n.driver} is not supported by Swarm services: use overlay`)
  }
  for (const [kind, files] of [['secret', project.secrets], ['config', project.configs]] as const) {
    for (const [key, f] of Object.entries(files)) if (f.driver || f.template_driver) out.push(`${kind} ${key}: drivers are not supported by pier on Swarm`)
  }
  return out
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'object') return Object.keys(value).length > 0
  return true
}

/** Whether a service needs the routing mesh: a VIP (Swarm's default endpoint mode) or a port published through ingress. */
export function needsMesh(service: Service): boolean {
  return service.deploy?.endpoint_mode !== 'dnsrr' || service.ports.some((p) => p.mode !== 'host')
}

/**
 * Whether this machine's kernel has IPVS, which Swarm's VIPs and ingress
 * need. Checked only when the manager is on this machine (a unix socket):
 * /proc/net/ip_vs exists once the module is loaded, and modprobe loads it
 * when it is built as a module.
 */
export function localIpvs(): boolean {
  if (existsSync('/proc/net/ip_vs')) return true
  try {
    execFileSync('modprobe', ['ip_vs'], { stdio: 'ignore' })
  } catch {
    return false
  }
  return existsSync('/proc/net/ip_vs')
}

export function meshRefusals(project: Project, ipvs: boolean): string[] {
  if (ipvs) return []
  const needing = Object.values(project.services).filter(needsMesh).map((s) => s.name)
  if (needing.length === 0) return []
  return [`services ${needing.join(', ')} need Swarm's routing mesh, and this node's kernel has no IPVS (CONFIG_IP_VS): set deploy.endpoint_mode: dnsrr and publish ports with mode: host`]
}

/**
 * The digest every node will pull for each service's image, asked of the
 * registry by the manager; an image the registry does not have is refused.
 */
export async function resolveImages(swarm: SwarmClient, project: Project): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const refused: string[] = []
  await Promise.all(
    Object.values(project.services).map(async (s) => {
      if (!s.image) return
      try {
        out[s.name] = pinned(s.image, await swarm.distribution(s.image))
      } catch (e) {
        refused.push(`service ${s.name}: image ${s.image} is not in a registry the swarm can reach (${(e as Error).message.split('\n')[0]}): push it to a registry every node can reach (\`pier push\`)`)
      }
    }),
  )
  if (refused.length) throw new SwarmError(refused.sort().join('\n'))
  return out
}

/** `image@digest`, as docker stack deploy pins it, so every node runs the same image. */
function pinned(image: string, digest: string): string {
  const at = image.indexOf('@')
  return `${at >= 0 ? image.slice(0, at) : image}@${digest}`
}

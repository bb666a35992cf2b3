import type { Service } from '../spec/project.js'
import { container } from './container.js'
import { placement, rollout } from './deploy.js'
import { k8sName, metadata, networkLabel, selector, serviceLabels, type Context } from './context.js'
import { serviceNetworks } from './network-policy.js'
import { dnsLabel } from './names.js'
import { claimSpec, volumeLabels, type VolumePlan } from './storage.js'
import type { Container, Manifest, PodSpec, PodVolume } from './types.js'

/**
 * A Compose service as a workload: a Deployment; a StatefulSet when it owns
 * named volumes (see storage.ts); a DaemonSet for `deploy.mode: global`
 * (one per node, as Swarm runs a global service). Replicas come from
 * `deploy.replicas`, else `scale`; the rollout and placement from deploy.ts.
 *
 * Services it waits for with `service_completed_successfully` run first, as
 * init containers of its pod, in dependency order: Kubernetes starts the
 * main container only once they exit 0, and starts them again when it does
 * not. `service_healthy` has no start order in Kubernetes: the pod starts at
 * once, and the dependency's readinessProbe (its healthcheck) keeps its
 * Service from sending traffic to it until it is healthy; a warning says so.
 */
export function workload(ctx: Context, service: Service, initServices: Service[], plan: VolumePlan): { manifest: Manifest; headless: boolean } {
  const main = container(ctx, service, plan)
  const inits = initServices.map((s) => container(ctx, s, plan))
  const templates = [...new Set([...main.templates, ...inits.flatMap((i) => i.templates)])]
  const volumes = unique([...main.volumes, ...inits.flatMap((i) => i.volumes)])
  const podLabels = { ...serviceLabels(ctx, service), ...Object.fromEntries(serviceNetworks(service).map((n) => [networkLabel(ctx, n), 'true'])) }
  const pod: PodSpec = {
    ...(inits.length ? { initContainers: inits.map((i) => initContainer(i.container)) } : {}),
    containers: [main.container],
    ...(volumes.length ? { volumes } : {}),
    ...podFields(ctx, service),
    ...placement(ctx, service),
  }
  const template = { metadata: { labels: podLabels, ...annotations(service) }, spec: pod }
  const replicas = service.deploy?.replicas ?? service.scale ?? 1
  const kind = service.deploy?.mode === 'global' ? 'DaemonSet' : templates.length ? 'StatefulSet' : 'Deployment'
  deployFields(ctx, service, kind)
  const name = k8sName(ctx, service)
  const meta = metadata(ctx, name, serviceLabels(ctx, service), service.deploy?.labels)
  const match = { matchLabels: selector(ctx, service) }

  const update = rollout(ctx, service, kind)
  if (kind === 'DaemonSet') return { manifest: { apiVersion: 'apps/v1', kind, metadata: meta, spec: { selector: match, ...update, template } }, headless: false }
  if (kind === 'StatefulSet') {
    if (replicas > 1) {
      for (const key of templates) ctx.warnings.service(service.name, `volume "${key}"`, `is one claim per replica in a StatefulSet (Compose shares one volume between the ${replicas} replicas)`)
    }
    const volumeClaimTemplates = templates.map((key) => ({ metadata: { name: dnsLabel(key), labels: volumeLabels(ctx, key) }, spec: claimSpec(ctx, 'ReadWriteOnce') }))
    return { manifest: { apiVersion: 'apps/v1', kind, metadata: meta, spec: { serviceName: name, replicas, selector: match, ...update, template, volumeClaimTemplates } }, headless: true }
  }
  // A claim that may be ReadWriteOnce (an external one) cannot be attached by the new pod of a rolling update on another node: replace the pod instead.
  const recreate = volumes.some((v) => v.persistentVolumeClaim && externalClaim(ctx, v.persistentVolumeClaim.claimName))
  if (recreate && update.strategy) ctx.warnings.service(service.name, 'deploy.update_config', 'is not converted (an external volume may attach to one node only: the Deployment recreates its pods)')
  return { manifest: { apiVersion: 'apps/v1', kind, metadata: meta, spec: { replicas, selector: match, ...update, ...(recreate ? { strategy: { type: 'Recreate' } } : {}), template } }, headless: false }
}

/** An init container takes no probes, lifecycle hooks or ports (the API refuses the first two). */
function initContainer(c: Container): Container {
  const { readinessProbe: _r, livenessProbe: _l, startupProbe: _s, lifecycle: _h, ports: _p, ...rest } = c
  return rest
}

function unique(volumes: PodVolume[]): PodVolume[] {
  const seen = new Set<string>()
  return volumes.filter((v) => !seen.has(v.name) && !!seen.add(v.name))
}

function externalClaim(ctx: Context, claim: string): boolean {
  return Object.values(ctx.project.volumes).some((v) => v.external && dnsLabel(v.name) === claim)
}

/** Compose's labels and annotations of a service are on its containers; in Kubernetes they are annotations of its pods (a label value may not hold what a Compose label does). */
function annotations(service: Service): { annotations?: Record<string, string> } {
  const all = { ...service.labels, ...service.annotations }
  return Object.keys(all).length ? { annotations: all } : {}
}

/** The pod-wide fields of a service: host name, DNS, host namespaces, platform, sysctls, stop grace. */
function podFields(ctx: Context, service: Service): Partial<PodSpec> {
  const pod: Partial<PodSpec> = {}
  const warn = (field: string, why: string) => ctx.warnings.service(service.name, field, why)
  if (service.hostname !== undefined) {
    if (/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(service.hostname)) pod.hostname = service.hostname
    else warn(`hostname "${service.hostname}"`, 'is not converted (a pod host name is a DNS-1123 label)')
  }
  switch (service.network_mode) {
    case undefined:
    case 'bridge':
      break
    case 'host':
      pod.hostNetwork = true
      pod.dnsPolicy = 'ClusterFirstWithHostNet'
      break
    default:
      warn(`network_mode "${service.network_mode}"`, 'is not converted (a pod always has its own network; put containers that share one in one pod by hand)')
  }
  if (service.pid === 'host') pod.hostPID = true
  else if (service.pid !== undefined) warn(`pid "${service.pid}"`, 'is not converted (Kubernetes shares a process namespace only pod-wide or with the host)')
  if (service.ipc === 'host') pod.hostIPC = true
  else if (service.ipc !== undefined && service.ipc !== 'private' && service.ipc !== 'shareable') warn(`ipc "${service.ipc}"`, 'is not converted')
  if (service.dns_search?.length || service.dns_opt?.length) {
    pod.dnsConfig = {
      ...(service.dns_search?.length ? { searches: service.dns_search } : {}),
      ...(service.dns_opt?.length ? { options: service.dns_opt.map((o) => { const [name, value] = o.split(/:(.*)/s); return { name, ...(value !== undefined ? { value } : {}) } }) } : {}),
    }
  }
  const aliases = new Map<string, string[]>()
  for (const [host, ips] of Object.entries(service.extra_hosts ?? {})) {
    for (const ip of ips) {
      if (ip === 'host-gateway') warn(`extra_hosts "${host}"`, 'is not converted (a pod has no host gateway)')
      else aliases.set(ip, [...(aliases.get(ip) ?? []), host])
    }
  }
  if (aliases.size) pod.hostAliases = [...aliases].map(([ip, hostnames]) => ({ ip, hostnames }))
  if (service.platform) {
    const [os, arch] = service.platform.split('/')
    pod.nodeSelector = { 'kubernetes.io/os': os, ...(arch ? { 'kubernetes.io/arch': arch } : {}) }
  }
  if (service.stop_grace_period !== undefined) pod.terminationGracePeriodSeconds = Math.ceil(service.stop_grace_period / 1000)
  const sysctls = Object.entries(service.sysctls ?? {}).map(([name, value]) => ({ name, value: String(value) }))
  const groups = (service.group_add ?? []).filter((g) => /^\d+$/.test(g)).map(Number)
  for (const g of service.group_add ?? []) if (!/^\d+$/.test(g)) warn(`group_add "${g}"`, 'is not converted (Kubernetes takes numeric supplementalGroups)')
  if (sysctls.length || groups.length) pod.securityContext = { ...(sysctls.length ? { sysctls } : {}), ...(groups.length ? { supplementalGroups: groups } : {}) }
  if (service.init) warn('init', 'is not converted (Kubernetes runs no init process in a container; put one in the image)')
  if (service.restart !== undefined && service.restart !== 'always' && service.restart !== 'unless-stopped') {
    warn(`restart "${service.restart}"`, 'is not converted (the pods of a Deployment, StatefulSet or DaemonSet are always restarted)')
  }
  for (const [network, options] of Object.entries(service.networks ?? {})) {
    for (const [field, value] of Object.entries(options ?? {})) {
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) warn(`networks "${network}" ${field}`, field === 'aliases' ? 'is not converted (a Service has one name: add a Service per alias by hand)' : 'is not converted (the network plugin assigns addresses)')
    }
  }
  for (const link of service.links ?? []) {
    const [target, alias] = link.split(':')
    if (alias && alias !== target) warn(`links "${link}"`, `is not converted: reach the service as "${target}", not "${alias}"`)
  }
  return pod
}

/** deploy fields: mode and replicas are the workload's kind and count; resources are the container's; the rest does not map. */
function deployFields(ctx: Context, service: Service, kind: string): void {
  const deploy = service.deploy
  if (!deploy) return
  if (deploy.mode !== undefined && deploy.mode !== 'replicated' && deploy.mode !== 'global') ctx.warnings.service(service.name, `deploy.mode "${deploy.mode}"`, 'is not converted (a Job or CronJob is written by hand)')
  if (kind === 'DaemonSet' && deploy.replicas !== undefined) ctx.warnings.service(service.name, 'deploy.replicas', 'is not converted (a global service runs one pod per node)')
  const policy = deploy.restart_policy
  if (policy?.condition && policy.condition !== 'any') ctx.warnings.service(service.name, `deploy.restart_policy.condition "${policy.condition}"`, 'is not converted (the pods of a workload are always restarted)')
  for (const field of ['delay', 'max_attempts', 'window'] as const) {
    if (policy?.[field] !== undefined) ctx.warnings.service(service.name, `deploy.restart_policy.${field}`, 'is not converted (the kubelet backs off on its own)')
  }
  if (deploy.endpoint_mode !== undefined) ctx.warnings.service(service.name, 'deploy.endpoint_mode', 'is not converted (the Service is headless or has a virtual IP by what the service is)')
}

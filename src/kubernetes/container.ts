import type { Hook, Service } from '../spec/project.js'
import { fileMounts } from './config.js'
import { k8sName, type Context } from './context.js'
import { probes } from './probes.js'
import { containerPorts } from './services.js'
import { bytesQuantity, storage, type VolumePlan } from './storage.js'
import type { Container, PodVolume } from './types.js'

/**
 * One Compose service as one container: image, argv, environment, ports,
 * mounts, probes, resources and security context. Pod-wide fields (host
 * name, DNS, host namespaces) are the workload's, in workloads.ts.
 */
export interface ContainerParts {
  container: Container
  volumes: PodVolume[]
  /** Volume keys to hold as claim templates of the workload's StatefulSet. */
  templates: string[]
}

export function container(ctx: Context, service: Service, plan: VolumePlan): ContainerParts {
  const name = k8sName(ctx, service)
  const files = storage(ctx, service, name, plan)
  const secrets = fileMounts(ctx, service, 'secret', name)
  const configs = fileMounts(ctx, service, 'config', name)
  const mounts = [...files.mounts, ...secrets.mounts, ...configs.mounts]
  const env = Object.entries(service.environment).map(([key, value]) => ({ name: key, value: escapeReferences(value) }))
  const ports = containerPorts(ctx, service).map((p) => ({ containerPort: p.port, protocol: p.protocol }))
  const resources = resourcesOf(ctx, service)
  const securityContext = securityOf(ctx, service)
  const lifecycle = lifecycleOf(ctx, service)
  const c: Container = {
    name,
    image: imageOf(ctx, service),
    ...pullPolicy(ctx, service),
    ...(service.entrypoint ? { command: service.entrypoint.map(escapeReferences) } : {}),
    ...(service.command ? { args: service.command.map(escapeReferences) } : {}),
    ...(service.working_dir ? { workingDir: service.working_dir } : {}),
    ...(env.length ? { env } : {}),
    ...(ports.length ? { ports } : {}),
    ...(resources ? { resources } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    ...probes(service.healthcheck, !!ctx.options.liveness),
    ...(lifecycle ? { lifecycle } : {}),
    ...(securityContext ? { securityContext } : {}),
    ...(service.tty ? { tty: true } : {}),
    ...(service.stdin_open ? { stdin: true } : {}),
  }
  if (service.healthcheck && !service.healthcheck.disable && !service.healthcheck.test) {
    ctx.warnings.service(service.name, 'healthcheck', "without test is not converted (Kubernetes ignores the image's HEALTHCHECK: give a test)")
  }
  if (service.healthcheck?.start_interval !== undefined && !ctx.options.liveness) {
    ctx.warnings.service(service.name, 'healthcheck.start_interval', 'is not converted (a readinessProbe has one period)')
  }
  return { container: c, volumes: [...files.volumes, ...secrets.volumes, ...configs.volumes], templates: files.templates }
}

/**
 * Kubernetes expands `$(VAR)` in command, args and env values, and reads
 * `$$` as `$`; Compose already did its interpolation, so every `$` that
 * starts either is doubled to come through as written.
 */
export function escapeReferences(value: string): string {
  return value.replace(/\$(?=[($])/g, '$$$$')
}

function imageOf(ctx: Context, service: Service): string {
  // Compose names the image it builds <project>-<service>; the cluster has to pull it from somewhere.
  const image = service.image ?? `${ctx.project.name}-${service.name}`
  if (service.build) ctx.warnings.service(service.name, 'build', `is not converted (build and push the image, then set image: to where the cluster pulls "${image}" from)`)
  return image
}

function pullPolicy(ctx: Context, service: Service): Pick<Container, 'imagePullPolicy'> {
  switch (service.pull_policy) {
    case undefined:
      return {}
    case 'always':
      return { imagePullPolicy: 'Always' }
    case 'never':
      return { imagePullPolicy: 'Never' }
    case 'missing':
    case 'if_not_present':
      return { imagePullPolicy: 'IfNotPresent' }
    default:
      ctx.warnings.service(service.name, `pull_policy "${service.pull_policy}"`, 'is not converted (Kubernetes has Always, Never and IfNotPresent)')
      return {}
  }
}

/** deploy.resources, or the service-level cpus, mem_limit and mem_reservation: limits and requests, CPUs in millicores, memory in bytes. */
function resourcesOf(ctx: Context, service: Service): Container['resources'] {
  const deploy = service.deploy?.resources
  const limits = deploy?.limits ?? { cpus: service.cpus, memory: service.mem_limit }
  const reservations = deploy?.reservations ?? { memory: service.mem_reservation }
  if (deploy?.limits?.pids !== undefined) ctx.warnings.service(service.name, 'deploy.resources.limits.pids', 'is not converted (the kubelet sets pod pid limits)')
  for (const field of ['devices', 'generic_resources'] as const) {
    if (deploy?.reservations?.[field]?.length) ctx.warnings.service(service.name, `deploy.resources.reservations.${field}`, 'is not converted (request the device plugin resource by hand)')
  }
  const quantities = (r: { cpus?: number; memory?: number }) => {
    const out: Record<string, string> = {}
    if (r.cpus) out.cpu = `${Math.max(1, Math.round(r.cpus * 1000))}m`
    if (r.memory) out.memory = bytesQuantity(r.memory)
    return Object.keys(out).length ? out : undefined
  }
  const l = quantities(limits)
  const r = quantities(reservations)
  return l || r ? { ...(l ? { limits: l } : {}), ...(r ? { requests: r } : {}) } : undefined
}

function securityOf(ctx: Context, service: Service): Container['securityContext'] {
  const sc: NonNullable<Container['securityContext']> = {}
  if (service.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(service.user)
    if (m) {
      sc.runAsUser = Number(m[1])
      if (m[2] !== undefined) sc.runAsGroup = Number(m[2])
    } else ctx.warnings.service(service.name, `user "${service.user}"`, 'is not converted (Kubernetes takes a numeric uid[:gid]: runAsUser)')
  }
  if (service.privileged) sc.privileged = true
  if (service.read_only) sc.readOnlyRootFilesystem = true
  const capability = (c: string) => c.replace(/^CAP_/i, '').toUpperCase()
  if (service.cap_add?.length || service.cap_drop?.length) {
    sc.capabilities = { ...(service.cap_add?.length ? { add: service.cap_add.map(capability) } : {}), ...(service.cap_drop?.length ? { drop: service.cap_drop.map(capability) } : {}) }
  }
  for (const opt of service.security_opt ?? []) {
    if (/^no-new-privileges([:=]true)?$/.test(opt)) sc.allowPrivilegeEscalation = false
    else ctx.warnings.service(service.name, `security_opt "${opt}"`, 'is not converted (set the pod securityContext by hand)')
  }
  return Object.keys(sc).length ? sc : undefined
}

function lifecycleOf(ctx: Context, service: Service): Container['lifecycle'] {
  const hook = (field: 'post_start' | 'pre_stop', hooks: Hook[] | undefined) => {
    if (!hooks?.length) return undefined
    if (hooks.length > 1) ctx.warnings.service(service.name, field, `has ${hooks.length} hooks: only the first is converted (a container has one)`)
    const [first] = hooks
    for (const option of ['user', 'privileged', 'working_dir', 'environment'] as const) {
      if (first[option] !== undefined) ctx.warnings.service(service.name, `${field}.${option}`, "is not converted (a hook runs as the container's process)")
    }
    return { exec: { command: first.command } }
  }
  const postStart = hook('post_start', service.post_start)
  const preStop = hook('pre_stop', service.pre_stop)
  return postStart || preStop ? { ...(postStart ? { postStart } : {}), ...(preStop ? { preStop } : {}) } : undefined
}

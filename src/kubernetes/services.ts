import type { Service } from '../spec/project.js'
import { k8sName, metadata, selector, serviceLabels, type Context } from './context.js'
import type { ContainerPort, Manifest } from './types.js'

/**
 * A Compose service's name is a host name on its networks, whatever ports it
 * has; in Kubernetes that is a Service. So every converted service gets one,
 * named as the service, with its container ports (`ports` and `expose`) as
 * the Service's ports, so `db:5432` works in the cluster as on a Compose
 * network. It is headless (clusterIP: None: DNS answers with the pods'
 * addresses) when the service has no port (a Service needs ports to have a
 * virtual IP) or is a StatefulSet (whose pods it names).
 *
 * Published ports (`ports:` reach the host in Compose) get a second Service,
 * `<name>-published`, of the type `publishedAs` says (LoadBalancer by
 * default, as Docker's Compose Bridge does; NodePort keeps the published
 * number when it is in the node port range 30000-32767), so the in-cluster
 * name keeps the container ports while the outside sees the published ones.
 */

export interface ServicePort {
  name: string
  port: number
  protocol: ContainerPort['protocol']
  appProtocol?: string
}

/** The container ports of a service: its `ports` targets and its `expose` entries, once each. */
export function containerPorts(ctx: Context, service: Service): ServicePort[] {
  const out: ServicePort[] = []
  const add = (port: number, protocol: string, name?: string, appProtocol?: string) => {
    const proto = protocol.toUpperCase() as ServicePort['protocol']
    if (out.some((p) => p.port === port && p.protocol === proto)) return
    out.push({ name: portName(name, port, proto, out), port, protocol: proto, ...(appProtocol ? { appProtocol } : {}) })
  }
  for (const port of service.ports) add(port.target, port.protocol, port.name, port.app_protocol)
  for (const entry of service.expose) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(entry)
    if (!m) {
      ctx.warnings.service(service.name, `expose "${entry}"`, 'is not converted (not a port, a range or port/protocol)')
      continue
    }
    for (let port = Number(m[1]); port <= Number(m[2] ?? m[1]); port++) add(port, m[3] ?? 'tcp')
  }
  return out
}

/** The container ports that `ports:` publishes (the ones a NetworkPolicy opens to everyone). */
export function publishedPorts(ctx: Context, service: Service): ServicePort[] {
  return containerPorts(ctx, service).filter((p) => service.ports.some((q) => q.target === p.port && q.protocol.toUpperCase() === p.protocol))
}

/** A port's name: Compose's when it is a valid IANA service name, else `<protocol>-<port>` (names are needed once a Service has two ports). */
function portName(name: string | undefined, port: number, protocol: string, taken: ServicePort[]): string {
  const valid = name && /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--')
  const chosen = valid ? name : `${protocol.toLowerCase()}-${port}`
  return taken.some((p) => p.name === chosen) ? `${protocol.toLowerCase()}-${port}` : chosen
}

export function services(ctx: Context, service: Service, headless: boolean): Manifest[] {
  const name = k8sName(ctx, service)
  const ports = containerPorts(ctx, service)
  const out: Manifest[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(ctx, name, serviceLabels(ctx, service)),
      spec: {
        ...(headless || ports.length === 0 ? { clusterIP: 'None' } : { type: 'ClusterIP' }),
        selector: selector(ctx, service),
        ...(ports.length ? { ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })) } : {}),
      },
    },
  ]
  const published = publishedService(ctx, service, name)
  if (published) out.push(published)
  return out
}

function publishedService(ctx: Context, service: Service, name: string): Manifest | undefined {
  const type = ctx.options.publishedAs ?? 'LoadBalancer'
  if (type === 'none' || service.ports.length === 0) return undefined
  const ports: Record<string, unknown>[] = []
  for (const port of service.ports) {
    const field = `ports "${port.published ?? ''}:${port.target}"`
    if (port.host_ip) ctx.warnings.service(service.name, `${field} host_ip`, 'is not converted (a Service listens on every node or load balancer address)')
    if (port.mode === 'host') ctx.warnings.service(service.name, `${field} mode: host`, 'is not converted (the port is published through a Service)')
    let published = port.published === undefined ? undefined : Number(port.published.split('-')[0])
    if (port.published?.includes('-')) ctx.warnings.service(service.name, field, `publishes a range: only ${published} is converted`)
    if (published === 0) published = undefined
    const protocol = port.protocol.toUpperCase()
    if (ports.some((p) => p.port === (published ?? port.target) && p.protocol === protocol)) continue
    ports.push({
      name: `${port.protocol}-${published ?? port.target}`,
      port: published ?? port.target,
      targetPort: port.target,
      protocol,
      ...(type === 'NodePort' && published !== undefined && published >= 30000 && published <= 32767 ? { nodePort: published } : {}),
    })
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(ctx, ctx.names.claim('service', `${service.name} (its published ports)`, `${name.slice(0, 53)}-published`), serviceLabels(ctx, service)),
    spec: { type, selector: selector(ctx, service), ports },
  }
}

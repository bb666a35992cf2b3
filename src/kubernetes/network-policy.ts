import { LABEL } from '../labels.js'
import type { Service } from '../spec/project.js'
import { metadata, networkLabel, projectLabels, selector, type Context } from './context.js'
import { dnsLabel, labelValue } from './names.js'
import type { ServicePort } from './services.js'
import type { Manifest } from './types.js'

/**
 * Compose networks as NetworkPolicies. On Compose, two containers talk when
 * they share a network; in Kubernetes every pod reaches every pod unless a
 * NetworkPolicy selects it. So each pod carries a label per Compose network
 * it is on, and each network gets a policy: its pods accept traffic from
 * pods with the same label. Policies add up, so a pod on two networks
 * accepts both; a pod that shares no network with another refuses it, as on
 * Compose. Published ports also accept traffic from anywhere (that is what
 * publishing means). An `internal` network also limits egress: a pod whose
 * networks are all internal reaches only its networks' pods and the
 * cluster's DNS; then the other networks' policies allow all egress, so that
 * a pod on an internal and a normal network keeps its way out.
 *
 * The policies take effect only where the cluster's network plugin enforces
 * them (Calico, Cilium …); elsewhere they are accepted and ignored.
 */

/** The networks a service's pod is on, as Compose keys. */
export function serviceNetworks(service: Service): string[] {
  if (service.network_mode) return []
  return Object.keys(service.networks ?? {})
}

export function networkPolicies(ctx: Context, converted: Service[], published: Map<string, ServicePort[]>): Manifest[] {
  const out: Manifest[] = []
  const used = new Set(converted.flatMap(serviceNetworks))
  const anyInternal = [...used].some((key) => ctx.project.networks[key]?.internal)
  for (const [key, network] of Object.entries(ctx.project.networks)) {
    if (!used.has(key)) continue
    for (const field of ['driver', 'driver_opts', 'ipam', 'attachable', 'enable_ipv6', 'enable_ipv4'] as const) {
      if (network[field] !== undefined) ctx.warnings.object('network', key, field, 'is not converted (the cluster network plugin decides)')
    }
    if (network.external) ctx.warnings.object('network', key, 'external', "is not converted: its policy admits only this project's pods")
    const member = { matchLabels: { [networkLabel(ctx, key)]: 'true' } }
    const egress = network.internal
      ? [{ to: [{ podSelector: member }] }, { to: [{ namespaceSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }]
      : [{}]
    const name = ctx.names.claim('NetworkPolicy', key, dnsLabel(`${ctx.project.name}-network-${key}`))
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(ctx, name, { ...projectLabels(ctx), [LABEL.network]: labelValue(key) }, network.labels),
      spec: {
        podSelector: member,
        policyTypes: anyInternal ? ['Ingress', 'Egress'] : ['Ingress'],
        ingress: [{ from: [{ podSelector: member }] }],
        ...(anyInternal ? { egress } : {}),
      },
    })
  }
  for (const service of converted) {
    const ports = published.get(service.name)
    if (!ports?.length || serviceNetworks(service).length === 0) continue
    const name = ctx.names.claim('NetworkPolicy', `${service.name} (published)`, dnsLabel(`${ctx.project.name}-${service.name}-published`))
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(ctx, name, projectLabels(ctx)),
      spec: {
        podSelector: { matchLabels: selector(ctx, service) },
        policyTypes: ['Ingress'],
        ingress: [{ ports: ports.map((p) => ({ protocol: p.protocol, port: p.port })) }],
      },
    })
  }
  return out
}

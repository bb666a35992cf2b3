import { LABEL } from '../labels.js'
import type { Project, Service } from '../spec/project.js'
import { dnsLabel, labelValue, type Names } from './names.js'
import type { ObjectMeta } from './types.js'
import type { Warnings } from './warnings.js'

/** How published ports leave the cluster: a Service of this type, or not at all. */
export type PublishedAs = 'LoadBalancer' | 'NodePort' | 'none'

export interface KubernetesOptions {
  /** Put every object in this namespace, and write the Namespace first. Absent: kubectl's current namespace. */
  namespace?: string
  /** The Service type for published ports (default LoadBalancer, as Compose Bridge does). */
  publishedAs?: PublishedAs
  /** Convert bind mounts to hostPath volumes (off: a host path of this machine means nothing on a cluster's nodes). */
  hostPath?: boolean
  /** Also make the healthcheck a livenessProbe that restarts an unhealthy container (Swarm's meaning, not Compose's). */
  liveness?: boolean
  /** The size each PersistentVolumeClaim requests (default 1Gi). */
  volumeSize?: string
  /** The storage class of every PersistentVolumeClaim (default: the cluster's default class). */
  storageClass?: string
}

/** What every converter of one run shares. */
export interface Context {
  project: Project
  options: KubernetesOptions
  names: Names
  warnings: Warnings
  /** Each converted Compose service's Kubernetes name. */
  serviceNames: Map<string, string>
}

/** The labels every object of the project carries: Compose's, so tools that read them find the project, and Kubernetes' recommended ones. */
export function projectLabels(ctx: Context): Record<string, string> {
  const project = labelValue(ctx.project.name)
  return { 'app.kubernetes.io/part-of': project, 'app.kubernetes.io/managed-by': 'pier', [LABEL.project]: project }
}

/** The labels of a service's objects (workload, pods, Service). */
export function serviceLabels(ctx: Context, service: Service): Record<string, string> {
  return { ...projectLabels(ctx), 'app.kubernetes.io/name': k8sName(ctx, service), [LABEL.service]: labelValue(service.name) }
}

/** The labels that select a service's pods; fixed for the life of a workload (a selector cannot change). */
export function selector(ctx: Context, service: Service): Record<string, string> {
  return { [LABEL.project]: labelValue(ctx.project.name), [LABEL.service]: labelValue(service.name) }
}

/** The label a pod carries for each Compose network it is on; NetworkPolicies select by it. */
export function networkLabel(ctx: Context, network: string): string {
  // The key has no prefix/: the whole key is one name segment of at most 63 characters.
  const key = `${LABEL.network}.${dnsLabel(network).slice(0, 63 - LABEL.network.length - 1).replace(/-+$/, '')}`
  return ctx.names.claim('network label', network, key)
}

export function k8sName(ctx: Context, service: Service): string {
  const name = ctx.serviceNames.get(service.name)
  if (!name) throw new Error(`service "${service.name}" has no Kubernetes name`)
  return name
}

export function metadata(ctx: Context, name: string, labels: Record<string, string>, annotations?: Record<string, string>): ObjectMeta {
  return {
    name,
    ...(ctx.options.namespace ? { namespace: ctx.options.namespace } : {}),
    labels,
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  }
}

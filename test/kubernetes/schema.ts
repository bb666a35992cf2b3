import { join } from 'node:path'
import ts from 'typescript'
import type { Manifest } from '../../src/kubernetes/index.js'
import { repoRoot } from '../support/helpers.js'

/**
 * Checks Kubernetes documents against the API of Kubernetes v1.33.0, offline,
 * with the kubernetes-models package (4.5.1, generated from that version's
 * OpenAPI schema), in three ways, since each catches what the others miss:
 *
 * - its validators (the OpenAPI schema compiled by ajv): required fields,
 *   types, enums, quantity and int-or-string formats;
 * - its TypeScript interfaces, by type-checking each document as an object
 *   literal: an unknown field is an error there, as it is for
 *   `kubectl apply --server-side` (strict field validation), while the
 *   OpenAPI schema lets it pass;
 * - the API server's own rules that the schema does not carry: DNS names,
 *   label syntax, every volumeMount naming a volume of its pod.
 */
export const KUBERNETES_VERSION = 'v1.33.0'

const MODULES: Record<string, string> = {
  'v1/Namespace': 'v1/Namespace',
  'v1/Service': 'v1/Service',
  'v1/Secret': 'v1/Secret',
  'v1/ConfigMap': 'v1/ConfigMap',
  'v1/PersistentVolumeClaim': 'v1/PersistentVolumeClaim',
  'apps/v1/Deployment': 'apps/v1/Deployment',
  'apps/v1/StatefulSet': 'apps/v1/StatefulSet',
  'apps/v1/DaemonSet': 'apps/v1/DaemonSet',
  'networking.k8s.io/v1/NetworkPolicy': 'networking.k8s.io/v1/NetworkPolicy',
}

export interface Labelled {
  /** Where the document came from, for the error messages: `golden/basic #3`. */
  label: string
  doc: Manifest
}

/** Every problem of every document, as `label: kind/name: message` lines; none when all are valid. */
export async function validateDocuments(docs: Labelled[]): Promise<string[]> {
  const errors: string[] = []
  for (const { label, doc } of docs) {
    const where = `${label}: ${doc.kind}/${doc.metadata?.name}`
    const module = MODULES[`${doc.apiVersion}/${doc.kind}`]
    if (!module) {
      errors.push(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`)
      continue
    }
    const models = (await import(`kubernetes-models/${module}`)) as Record<string, new (data: unknown) => { validate(): void }>
    try {
      new models[doc.kind](doc).validate()
    } catch (err) {
      errors.push(`${where}: ${(err as Error).message}`)
    }
    errors.push(...apiServerRules(doc).map((e) => `${where}: ${e}`))
  }
  errors.push(...unknownFields(docs))
  return errors
}

/** The declaration files parsed once for every check (kubernetes-models' types, TypeScript's lib): parsing is most of a check's cost. */
const declarations = new Map<string, ts.SourceFile | undefined>()
let previous: ts.Program | undefined

/** Type-checks all documents in one TypeScript program (a first program costs ~2 s; one per document would cost minutes). */
function unknownFields(docs: Labelled[]): string[] {
  const file = join(repoRoot, 'test', 'kubernetes', '__documents__.ts')
  const lines: string[] = []
  const owner: Labelled[] = []
  docs.forEach((d, i) => {
    const module = MODULES[`${d.doc.apiVersion}/${d.doc.kind}`]
    if (!module) return
    lines.push(`import type { I${d.doc.kind} as T${i} } from 'kubernetes-models/${module}'`)
    lines.push(`export const d${i}: T${i} = ${JSON.stringify(d.doc)}`)
    owner[lines.length - 1] = d
  })
  const source = lines.join('\n')
  const host = ts.createCompilerHost({})
  const read = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language) => {
    if (name === file) return ts.createSourceFile(name, source, language)
    if (!declarations.has(name)) declarations.set(name, read(name, language))
    return declarations.get(name)
  }
  const options = { noEmit: true, strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], skipLibCheck: true }
  const program = ts.createProgram({ rootNames: [file], options, host, oldProgram: previous })
  previous = program
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1
    const doc = owner[line]
    const where = doc ? `${doc.label}: ${doc.doc.kind}/${doc.doc.metadata.name}` : 'documents'
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
  })
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/

/** What the API server checks beyond the schema (apimachinery validation), for the fields pier writes. */
function apiServerRules(doc: Manifest): string[] {
  const errors: string[] = []
  const name = doc.metadata.name
  if (!(doc.kind === 'Service' ? DNS_1035 : DNS_LABEL).test(name)) errors.push(`metadata.name "${name}" is not a DNS-${doc.kind === 'Service' ? '1035' : '1123'} label`)
  const checkLabels = (labels: Record<string, string> | undefined, path: string) => {
    for (const [key, value] of Object.entries(labels ?? {})) {
      const [prefix, last] = key.includes('/') ? key.split('/') : [undefined, key]
      if ((prefix !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(prefix)) || !LABEL_NAME.test(last)) errors.push(`${path} key "${key}" is not a label key`)
      if (!LABEL_VALUE.test(value)) errors.push(`${path} "${key}" value "${value}" is not a label value`)
    }
  }
  checkLabels(doc.metadata.labels, 'metadata.labels')
  const spec = doc.spec as Record<string, any> | undefined
  if (spec?.selector?.matchLabels) checkLabels(spec.selector.matchLabels, 'spec.selector.matchLabels')
  if (spec?.podSelector?.matchLabels) checkLabels(spec.podSelector.matchLabels, 'spec.podSelector.matchLabels')
  if (spec?.template) {
    checkLabels(spec.template.metadata?.labels, 'spec.template.metadata.labels')
    for (const [k, v] of Object.entries(spec.selector?.matchLabels ?? {})) {
      if (spec.template.metadata?.labels?.[k] !== v) errors.push(`spec.selector "${k}" does not match the pod template's labels`)
    }
    const pod = spec.template.spec
    const volumes = new Set<string>([...(pod.volumes ?? []).map((v: { name: string }) => v.name), ...(spec.volumeClaimTemplates ?? []).map((t: { metadata: { name: string } }) => t.metadata.name)])
    if (volumes.size !== (pod.volumes ?? []).length + (spec.volumeClaimTemplates ?? []).length) errors.push('two pod volumes have one name')
    const containers = [...(pod.initContainers ?? []), ...pod.containers]
    const names = new Set<string>()
    for (const c of containers) {
      if (!DNS_LABEL.test(c.name)) errors.push(`container name "${c.name}" is not a DNS-1123 label`)
      if (names.has(c.name)) errors.push(`two containers are named "${c.name}"`)
      names.add(c.name)
      const paths = new Set<string>()
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) errors.push(`container "${c.name}" mounts "${m.name}", which is not a volume of the pod`)
        if (paths.has(m.mountPath)) errors.push(`container "${c.name}" mounts two volumes at ${m.mountPath}`)
        paths.add(m.mountPath)
      }
    }
    for (const c of pod.initContainers ?? []) {
      for (const f of ['readinessProbe', 'livenessProbe', 'startupProbe', 'lifecycle']) if (c[f]) errors.push(`init container "${c.name}" has ${f}`)
    }
    for (const v of pod.volumes ?? []) if (!DNS_LABEL.test(v.name)) errors.push(`volume name "${v.name}" is not a DNS-1123 label`)
  }
  if (doc.kind === 'Service') {
    const ports = spec?.ports ?? []
    for (const p of ports) if (p.name !== undefined && !/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(p.name)) errors.push(`port name "${p.name}" is not an IANA service name`)
    if (ports.length > 1 && ports.some((p: { name?: string }) => !p.name)) errors.push('a Service with several ports names every port')
    if (new Set(ports.map((p: { name?: string }) => p.name)).size !== ports.length) errors.push('two ports of a Service have one name')
    if (spec?.clusterIP !== 'None' && ports.length === 0) errors.push('a Service with a cluster IP needs ports')
  }
  return errors
}

import { ConversionError, type Warnings } from './warnings.js'

/**
 * Kubernetes names: most objects are DNS-1123 labels (lower-case letters,
 * digits and '-', starting and ending alphanumeric, at most 63 characters);
 * Services are DNS-1035 labels (they must also start with a letter), since
 * their name is a host name in the cluster's DNS. Compose names may hold
 * '_' and '.', and upper case, so they are mapped, and two Compose names that
 * map to one Kubernetes name are an error rather than one object overwriting
 * the other.
 */
export function dnsLabel(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '')
  if (!label) throw new ConversionError(`"${name}" has no letter or digit to make a Kubernetes name of: rename it`)
  return label
}

/** A name that is also a DNS-1035 label: it starts with a letter. */
export function serviceName(name: string): string {
  const label = dnsLabel(name)
  return /^[a-z]/.test(label) ? label : dnsLabel(`s-${label}`)
}

/** A label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends (or empty). */
export function labelValue(value: string): string {
  if (/^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/.test(value)) return value
  return dnsLabel(value)
}

/**
 * The names given out in one conversion, per kind of object: a second
 * Compose name that maps to a name already taken fails with both named.
 */
export class Names {
  private readonly taken = new Map<string, string>()

  constructor(private readonly warnings: Warnings) {}

  /** The Kubernetes name of a Compose service (its workload and Service), warning when it differs. */
  service(name: string): string {
    const k8s = this.claim('service', name, serviceName(name))
    if (k8s !== name) this.warnings.service(name, 'name', `becomes "${k8s}" in Kubernetes (a DNS-1035 label): clients that reach it as "${name}" must use "${k8s}"`)
    return k8s
  }

  /** The Kubernetes name of a top-level object, unique within its kind. */
  claim(kind: string, composeName: string, k8sName: string): string {
    const key = `${kind}\0${k8sName}`
    const holder = this.taken.get(key)
    if (holder !== undefined && holder !== composeName) {
      throw new ConversionError(`${kind}s "${holder}" and "${composeName}" both become "${k8sName}" in Kubernetes: rename one of them`)
    }
    this.taken.set(key, composeName)
    return k8sName
  }
}

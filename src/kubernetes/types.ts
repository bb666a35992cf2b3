/**
 * The shapes of the Kubernetes objects pier writes: only the fields it sets,
 * named as the Kubernetes API names them. The tests check every document
 * against the OpenAPI schema of the Kubernetes version the README names, so
 * these types need not be complete, only right.
 */

export interface ObjectMeta {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** One document of the output: any Kubernetes object. */
export interface Manifest {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [field: string]: unknown
}

export interface EnvVar {
  name: string
  value: string
}

export interface ContainerPort {
  containerPort: number
  protocol: 'TCP' | 'UDP' | 'SCTP'
}

export interface VolumeMount {
  name: string
  mountPath: string
  subPath?: string
  readOnly?: boolean
}

export interface Probe {
  exec: { command: string[] }
  periodSeconds: number
  timeoutSeconds: number
  failureThreshold: number
  successThreshold?: number
  initialDelaySeconds?: number
}

export interface Container {
  name: string
  image: string
  imagePullPolicy?: 'Always' | 'Never' | 'IfNotPresent'
  command?: string[]
  args?: string[]
  workingDir?: string
  env?: EnvVar[]
  ports?: ContainerPort[]
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> }
  volumeMounts?: VolumeMount[]
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
  lifecycle?: { postStart?: { exec: { command: string[] } }; preStop?: { exec: { command: string[] } } }
  securityContext?: {
    runAsUser?: number
    runAsGroup?: number
    privileged?: boolean
    readOnlyRootFilesystem?: boolean
    allowPrivilegeEscalation?: boolean
    capabilities?: { add?: string[]; drop?: string[] }
  }
  tty?: boolean
  stdin?: boolean
}

/** A pod volume: one of these sources. */
export interface PodVolume {
  name: string
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean }
  emptyDir?: { medium?: 'Memory'; sizeLimit?: string }
  hostPath?: { path: string; type?: string }
  secret?: { secretName: string; items: { key: string; path: string; mode?: number }[] }
  configMap?: { name: string; items: { key: string; path: string; mode?: number }[] }
}

export interface PersistentVolumeClaimSpec {
  accessModes: ('ReadWriteOnce' | 'ReadWriteMany')[]
  resources: { requests: { storage: string } }
  storageClassName?: string
}

export interface PodSpec {
  initContainers?: Container[]
  containers: Container[]
  volumes?: PodVolume[]
  hostname?: string
  hostNetwork?: boolean
  hostPID?: boolean
  hostIPC?: boolean
  dnsPolicy?: string
  dnsConfig?: { searches?: string[]; options?: { name: string; value?: string }[] }
  hostAliases?: { ip: string; hostnames: string[] }[]
  nodeSelector?: Record<string, string>
  affinity?: Record<string, unknown>
  terminationGracePeriodSeconds?: number
  securityContext?: { sysctls?: { name: string; value: string }[]; supplementalGroups?: number[] }
}

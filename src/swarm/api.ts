import { DockerClient, labelFilter, parseHost } from '../engine/docker/client.js'
import { SwarmError } from './errors.js'

/**
 * The Swarm objects pier reads and writes, as the Docker Engine API (1.41+)
 * names them, and the calls on them. Only the fields pier sets or reads are
 * typed; the API keeps the rest.
 */

export interface Versioned<T> {
  ID: string
  Version: { Index: number }
  CreatedAt?: string
  Spec: T
}

export interface ServiceSpec {
  Name: string
  Labels: Record<string, string>
  TaskTemplate: {
    ContainerSpec: Record<string, unknown> & { Image: string; Labels?: Record<string, string> }
    Resources?: { Limits?: Record<string, number>; Reservations?: Record<string, number> }
    RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number }
    Placement?: { Constraints?: string[]; Preferences?: { Spread: { SpreadDescriptor: string } }[]; MaxReplicas?: number }
    Networks?: { Target: string; Aliases?: string[] }[]
    LogDriver?: { Name: string; Options?: Record<string, string> }
  }
  Mode: { Replicated: { Replicas: number } } | { Global: Record<string, never> }
  UpdateConfig?: UpdateConfig
  RollbackConfig?: UpdateConfig
  EndpointSpec?: { Mode?: 'vip' | 'dnsrr'; Ports?: { Name?: string; Protocol: string; TargetPort: number; PublishedPort?: number; PublishMode: 'ingress' | 'host' }[] }
}

export interface UpdateConfig {
  Parallelism?: number
  Delay?: number
  FailureAction?: string
  Monitor?: number
  MaxFailureRatio?: number
  Order?: string
}

export type Service = Versioned<ServiceSpec> & { UpdateStatus?: { State: string; Message?: string } }

export interface Task {
  ID: string
  ServiceID: string
  NodeID?: string
  Slot?: number
  DesiredState: string
  CreatedAt: string
  Spec: { ContainerSpec: { Image: string } }
  Status: { Timestamp: string; State: string; Message?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number }; PortStatus?: { Ports?: { Protocol: string; TargetPort: number; PublishedPort: number; PublishMode: string }[] } }
}

export interface Node {
  ID: string
  Description: { Hostname: string }
  Status: { State: string; Addr?: string }
  Spec: { Role: string; Availability: string }
}

export interface NetworkSpec {
  Name: string
  Driver: string
  Attachable?: boolean
  Internal?: boolean
  EnableIPv6?: boolean
  Labels: Record<string, string>
  Options?: Record<string, string>
  IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string }[]; Options?: Record<string, string> }
  CheckDuplicate?: boolean
}

export interface NetworkInfo {
  Id: string
  Name: string
  Scope: string
  Labels?: Record<string, string>
}

/** A secret or a config: the same shape, the data base64. */
export interface FileSpec {
  Name: string
  Labels: Record<string, string>
  Data: string
}

export type SecretOrConfig = 'secrets' | 'configs'

/** The manager, as the Docker client sees it; refuses a node that is not a swarm manager. */
export class SwarmClient {
  private constructor(readonly docker: DockerClient) {}

  static async connect(host?: string): Promise<SwarmClient> {
    const docker = new DockerClient(parseHost(host))
    await docker.negotiate()
    const info = await docker.json<{ Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }>('GET', '/info')
    if (info.Swarm?.LocalNodeState !== 'active') {
      docker.close()
      throw new SwarmError(`the Docker engine at ${docker.endpoint.url} is not part of a swarm: run \`docker swarm init\` there, or point DOCKER_HOST at a swarm manager`)
    }
    if (!info.Swarm.ControlAvailable) {
      docker.close()
      throw new SwarmError(`the Docker engine at ${docker.endpoint.url} is a swarm worker: point DOCKER_HOST at a manager`)
    }
    return new SwarmClient(docker)
  }

  close(): void {
    this.docker.close()
  }

  services(labels: Record<string, string>): Promise<Service[]> {
    return this.docker.json('GET', '/services', { query: { filters: labelFilter(labels), status: true } })
  }

  async createService(spec: ServiceSpec): Promise<string> {
    return (await this.docker.json<{ ID: string }>('POST', '/services/create', { body: spec, what: `service ${spec.Name}` })).ID
  }

  updateService(current: Service, spec: ServiceSpec): Promise<void> {
    return this.docker.call('POST', `/services/${current.ID}/update`, { query: { version: current.Version.Index }, body: spec, what: `service ${spec.Name}` })
  }

  removeService(service: Service): Promise<void> {
    return this.docker.call('DELETE', `/services/${service.ID}`, { what: `service ${service.Spec.Name}` })
  }

  tasks(filters: Record<string, string[]>): Promise<Task[]> {
    return this.docker.json('GET', '/tasks', { query: { filters: JSON.stringify(filters) } })
  }

  nodes(): Promise<Node[]> {
    return this.docker.json('GET', '/nodes')
  }

  networks(labels: Record<string, string>): Promise<NetworkInfo[]> {
    return this.docker.json('GET', '/networks', { query: { filters: labelFilter(labels) } })
  }

  async networkNamed(name: string): Promise<NetworkInfo | undefined> {
    const found = await this.docker.json<NetworkInfo[]>('GET', '/networks', { query: { filters: JSON.stringify({ name: [name] }) } })
    return found.find((n) => n.Name === name)
  }

  async createNetwork(spec: NetworkSpec): Promise<string> {
    return (await this.docker.json<{ Id: string }>('POST', '/networks/create', { body: spec, what: `network ${spec.Name}` })).Id
  }

  removeNetwork(id: string, name: string): Promise<void> {
    return this.docker.call('DELETE', `/networks/${id}`, { what: `network ${name}` })
  }

  files(kind: SecretOrConfig, filters: Record<string, string[]>): Promise<Versioned<{ Name: string; Labels?: Record<string, string> }>[]> {
    return this.docker.json('GET', `/${kind}`, { query: { filters: JSON.stringify(filters) } })
  }

  async createFile(kind: SecretOrConfig, spec: FileSpec): Promise<string> {
    return (await this.docker.json<{ ID: string }>('POST', `/${kind}/create`, { body: spec, what: `${kind.slice(0, -1)} ${spec.Name}` })).ID
  }

  removeFile(kind: SecretOrConfig, id: string, name: string): Promise<void> {
    return this.docker.call('DELETE', `/${kind}/${id}`, { what: `${kind.slice(0, -1)} ${name}` })
  }

  /** The manifest digest a registry holds for `image`, asked by the manager (so with its registry settings and credentials). */
  async distribution(image: string): Promise<string> {
    const d = await this.docker.json<{ Descriptor: { digest: string } }>('GET', `/distribution/${image}/json`, { what: `image ${image}` })
    return d.Descriptor.digest
  }

  /** A service's logs, multiplexed unless it has a TTY. */
  logs(service: Service, query: Record<string, string | number | boolean | undefined>) {
    return this.docker.request('GET', `/services/${service.ID}/logs`, { query: { stdout: true, stderr: true, ...query }, stream: true, what: `service ${service.Spec.Name}` })
  }
}

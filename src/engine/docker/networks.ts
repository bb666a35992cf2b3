import type { Labels, Network, NetworkAttachment, NetworkSpec } from '../engine.js'
import { EngineError } from '../errors.js'
import { type DockerClient, labelFilter } from './client.js'
import { endpointConfig } from './containers.js'

interface NetworkInspect {
  Id: string
  Name: string
  Driver: string
  Internal: boolean
  EnableIPv6: boolean
  Attachable: boolean
  Options: Record<string, string> | null
  Labels: Record<string, string> | null
  IPAM: { Config: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] | null }
}

const networkOf = (n: NetworkInspect): Network => {
  const config = n.IPAM?.Config ?? []
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    ...(n.Options && Object.keys(n.Options).length ? { driverOpts: n.Options } : {}),
    internal: n.Internal,
    enableIpv6: n.EnableIPv6,
    attachable: n.Attachable,
    ...(config.length ? { ipam: config.map((c) => ({ ...(c.Subnet ? { subnet: c.Subnet } : {}), ...(c.IPRange ? { ipRange: c.IPRange } : {}), ...(c.Gateway ? { gateway: c.Gateway } : {}), ...(c.AuxiliaryAddresses ? { auxAddresses: c.AuxiliaryAddresses } : {}) })) } : {}),
    labels: n.Labels ?? {},
    ...(n.Driver === 'bridge' ? { bridge: n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}` } : {}),
    subnets: config.filter((c) => c.Subnet).map((c) => ({ subnet: c.Subnet!, gateway: c.Gateway ?? '' })),
  }
}

export class Networks {
  constructor(private readonly client: DockerClient) {}

  async list(labels: Labels): Promise<Network[]> {
    return (await this.client.json<NetworkInspect[]>('GET', '/networks', { query: { filters: labelFilter(labels) } })).map(networkOf)
  }

  /** By exact name or ID: Docker's lookup also matches an ID prefix, which a name must not. */
  async inspect(name: string): Promise<Network | undefined> {
    try {
      const n = networkOf(await this.client.json<NetworkInspect>('GET', `/networks/${encodeURIComponent(name)}`))
      return n.name === name || n.id.startsWith(name) ? n : undefined
    } catch (e) {
      if (e instanceof EngineError && e.code === 'not-found') return undefined
      throw e
    }
  }

  async create(spec: NetworkSpec): Promise<Network> {
    const { Id } = await this.client.json<{ Id: string }>('POST', '/networks/create', {
      body: {
        Name: spec.name,
        CheckDuplicate: true,
        Driver: spec.driver ?? 'bridge',
        Internal: spec.internal,
        EnableIPv6: spec.enableIpv6,
        Attachable: spec.attachable ?? false,
        Options: spec.driverOpts ?? {},
        Labels: spec.labels,
        IPAM: { Driver: 'default', Config: (spec.ipam ?? []).map((c) => ({ ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.ipRange ? { IPRange: c.ipRange } : {}), ...(c.gateway ? { Gateway: c.gateway } : {}), ...(c.auxAddresses ? { AuxiliaryAddresses: c.auxAddresses } : {}) })) },
      },
      what: `network ${spec.name}`,
    })
    return networkOf(await this.client.json<NetworkInspect>('GET', `/networks/${Id}`))
  }

  /**
   * dockerd may still hold the endpoint of a container it has just removed
   * ("has active endpoints", seen under load right after a down removed 30
   * containers): that clears within moments, so it is retried for up to 5 s.
   */
  async remove(name: string): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        return await this.client.call('DELETE', `/networks/${encodeURIComponent(name)}`, { what: `network ${name}` })
      } catch (e) {
        if (!(e instanceof EngineError && /active endpoints/.test(e.message)) || tries >= 25) throw e
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  /** Joins a created container to a further network (the first is joined at creation). */
  async connect(network: string, container: string, attachment: NetworkAttachment, macInEndpoint: boolean): Promise<void> {
    await this.client.call('POST', `/networks/${encodeURIComponent(network)}/connect`, { body: { Container: container, EndpointConfig: endpointConfig(attachment, macInEndpoint) }, what: `network ${network}` })
  }
}

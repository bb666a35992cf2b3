import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContainerNetworking } from '../../../network/attach.js'
import { UPSTREAM_FILE } from '../../../network/dns.js'
import { hostConf, hostsFile, resolvConf, upstreamServers, type Endpoint } from '../../../network/names.js'
import type { Root } from '../root.js'
import { readInRoot } from './inroot.js'
import type { RecordStore } from './records.js'
import { files, readJson, type ContainerRecord } from './state.js'

export interface EtcFiles {
  hosts: string
  hostname: string
  resolvConf: string
  hostConf?: string
}

/** The /etc files pier made for a container (in containers/<id>/etc/), bind-mounted into it. */
export function etcFiles(dir: string): EtcFiles {
  const hostConf = join(dir, 'host.conf')
  return { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf'), ...(existsSync(hostConf) ? { hostConf } : {}) }
}

/**
 * Name resolution inside containers: each gets its own /etc/hosts,
 * /etc/hostname and /etc/resolv.conf (and /etc/host.conf on networks), and
 * every networked container's /etc/hosts names all the others.
 */
export class Hosts {
  private running?: Promise<void>
  private queued?: Promise<void>

  constructor(
    private readonly root: Root,
    private readonly records: RecordStore,
  ) {}

  /**
   * Writes the container's own /etc files. Synchronously: five small files in
   * the engine root, where the promise API made fifteen trips through
   * libuv's thread pool per start, queued behind the other starts' trips.
   */
  writeEtc(record: ContainerRecord, hostname: string, networking?: ContainerNetworking): EtcFiles {
    const spec = record.spec
    const f = files(this.records.dir(record.id))
    mkdirSync(f.etc, { recursive: true })
    const etc = etcFiles(f.etc)
    const hostNet = spec.networkMode === 'host'
    if (hostNet) {
      const extra = Object.entries(spec.extraHosts).flatMap(([h, ips]) => ips.map((ip) => `${ip}\t${h}\n`)).join('')
      writeFileSync(etc.hosts, hostFile('/etc/hosts', '') + extra)
    } else {
      const self = endpoint(record, networking)
      writeFileSync(etc.hosts, hostsFile(self, networking ? [self] : []))
    }
    writeFileSync(etc.hostname, `${hostNet ? hostFile('/etc/hostname', 'localhost\n').trim() : hostname}\n`)
    const hostResolv = hostFile('/etc/resolv.conf', '')
    // pier's DNS server (network/dns.ts) answers on the gateway of the first network that has one; internal networks have none.
    const served = networking?.interfaces.find((i) => !i.internal)?.gateway
    writeFileSync(etc.resolvConf, resolvConf(hostResolv, spec.dns, spec.dnsSearch, spec.dnsOpt, served))
    if (!networking) return etc
    // Where that server sends the names it does not hold, read by it at each query.
    writeFileSync(join(f.etc, UPSTREAM_FILE), upstreamServers(hostResolv, spec.dns).join('\n') + '\n')
    // The image's file, read inside its root filesystem: a link in the image must not lead to a host file.
    const imageHostConf = readInRoot(f.rootfs, '/etc/host.conf') ?? ''
    writeFileSync(join(f.etc, 'host.conf'), hostConf(imageHostConf))
    return { ...etc, hostConf: join(f.etc, 'host.conf') }
  }

  /**
   * Rewrites the /etc/hosts of every networked container of this root, so
   * names follow containers as they come and go. Calls made while a rewrite
   * runs share the next one (one rewrite covers them all), and a root lock
   * orders rewrites of different pier processes; each reads the state anew.
   */
  refresh(): Promise<void> {
    if (this.queued) return this.queued
    if (this.running) {
      this.queued = this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined
          return this.refresh()
        })
      return this.queued
    }
    this.running = this.root.withLock('hosts', () => this.writeAll()).finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async writeAll(): Promise<void> {
    const networked: { record: ContainerRecord; self: Endpoint }[] = []
    for (const record of await this.records.all()) {
      const networking = await readJson<ContainerNetworking>(files(this.records.dir(record.id)).network)
      if (networking) networked.push({ record, self: endpoint(record, networking) })
    }
    const all = networked.map((n) => n.self)
    await Promise.all(
      networked.map(async ({ record, self }) => {
        const path = etcFiles(files(this.records.dir(record.id)).etc).hosts
        const text = hostsFile(self, all)
        const current = await readFile(path, 'utf8').catch(() => undefined)
        if (current === undefined || current === text) return
        // In place, not by rename: the file is bind-mounted, and a mount keeps the inode it was given.
        // Opened without create: a container being removed meanwhile is not given its file back.
        const handle = await open(path, 'r+').catch(() => undefined)
        if (!handle) return
        try {
          await handle.write(text, 0)
          await handle.truncate(Buffer.byteLength(text))
        } finally {
          await handle.close()
        }
      }),
    )
  }
}

/** A container as name resolution sees it. */
function endpoint(record: ContainerRecord, networking?: ContainerNetworking): Endpoint {
  const spec = record.spec
  return {
    id: record.id,
    name: record.name,
    hostname: spec.hostname ?? record.id.slice(0, 12),
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    interfaces: (networking?.interfaces ?? []).map((i) => ({ network: i.network, address: i.address, aliases: i.aliases })),
    links: (spec.links ?? []).map((l) => {
      const [container, alias] = l.split(':')
      return { container, alias: alias ?? container }
    }),
    extraHosts: spec.extraHosts,
  }
}

/** A file of the host's (/etc/hosts, /etc/resolv.conf), or `fallback` when it cannot be read. */
function hostFile(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fallback
  }
}

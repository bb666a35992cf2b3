/**
 * Name resolution by files, not by a resolver: every container's /etc/hosts
 * lists the containers it shares a network with (service name, aliases,
 * container name, short ID), and pier rewrites the files of the affected
 * containers whenever one is started or removed. No process has to run for
 * names to resolve, lookups cost a file read, and every libc (glibc, musl,
 * busybox) reads /etc/hosts. A scaled service is listed once per replica;
 * musl returns every address listed for a name, glibc only with `multi on`
 * in /etc/host.conf, which pier therefore mounts (the image's own file with
 * that line added). Tools that speak DNS only (nslookup, dig) get the
 * same names from pier's DNS server on the network's gateway (dns.ts),
 * which answers from these very files.
 */

/** A container as name resolution sees it. */
export interface Endpoint {
  id: string
  name: string
  hostname: string
  domainname?: string
  interfaces: { network: string; address: string; aliases: string[] }[]
  /** `links:` of the container: another container (name or ID) and the name it is known by here. */
  links: { container: string; alias: string }[]
  extraHosts: Record<string, string[]>
}

const LOCAL = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters']

/**
 * The /etc/hosts of `self` among `all` endpoints (self included): names
 * resolve only on networks the two share, through the address on that
 * network; the first shared network in `self`'s order wins for each peer.
 */
export function hostsFile(self: Endpoint, all: Endpoint[]): string {
  const lines = [...LOCAL]
  const own = self.interfaces[0]?.address
  if (own) lines.push(`${own}\t${self.domainname ? `${self.hostname}.${self.domainname} ` : ''}${self.hostname}`)
  for (const [host, ips] of Object.entries(self.extraHosts)) for (const ip of ips) lines.push(`${ip}\t${host}`)

  const shared = (peer: Endpoint) => {
    for (const mine of self.interfaces) {
      const theirs = peer.interfaces.find((i) => i.network === mine.network)
      if (theirs) return theirs
    }
    return undefined
  }
  const peers = [...all].sort((a, b) => a.name.localeCompare(b.name))
  for (const link of self.links) {
    const target = peers.find((p) => p.name === link.container || p.id === link.container)
    const via = target && shared(target)
    if (via) lines.push(`${via.address}\t${link.alias}`)
  }
  for (const peer of peers) {
    const via = shared(peer)
    if (!via) continue
    const names = unique([peer.name, ...via.aliases, peer.id.slice(0, 12)])
    lines.push(`${via.address}\t${names.join(' ')}`)
  }
  return lines.join('\n') + '\n'
}

/**
 * /etc/resolv.conf: the service's dns/dns_search/dns_opt, else the host's
 * own. Loopback nameservers of the host are dropped, as Docker drops them:
 * inside the container's namespace 127.0.0.53 is the container itself.
 * With `served` (the gateway of the container's first non-internal
 * network, where pier answers DNS: see dns.ts), that comes first, as
 * Docker's 127.0.0.11 is the container's nameserver, and the others become
 * its upstream servers. The non-loopback ones also follow it (glibc reads
 * three): a container run in the foreground (`pier run`) has no monitor, so
 * when nothing else runs on its network nothing answers on the gateway, the
 * kernel refuses the query at once and the resolver asks the next server.
 * pier's server answers every query it gets (NXDOMAIN, SERVFAIL included),
 * so while it runs glibc, Go and nslookup do not ask the others for names it
 * holds; musl asks all at once, but reads /etc/hosts, which holds the same
 * names, first. A `dns:` server on loopback is pier's upstream only.
 */
export function resolvConf(host: string, dns: string[], search: string[], options: string[], served?: string): string {
  const lines = host.split('\n').map((l) => l.trim())
  const hostSearch = lines.filter((l) => /^(search|domain)\s/.test(l)).flatMap((l) => l.split(/\s+/).slice(1))
  const hostOptions = lines.filter((l) => /^options\s/.test(l)).flatMap((l) => l.split(/\s+/).slice(1))
  const servers = served ? [served, ...upstreamServers(host, dns).filter((ip) => !/^127\.|^::1$/.test(ip))].slice(0, 3) : upstreamServers(host, dns)
  const domains = search.length ? search : hostSearch
  const opts = options.length ? options : hostOptions
  return [...servers.map((s) => `nameserver ${s}`), ...(domains.length ? [`search ${domains.join(' ')}`] : []), ...(opts.length ? [`options ${opts.join(' ')}`] : [])].join('\n') + '\n'
}

/**
 * Where names pier does not know go: the service's `dns:` servers as given
 * (pier's server reaches them from the host, so a loopback one works there),
 * else the host's nameservers less loopback ones (as today, and as Docker).
 */
export function upstreamServers(host: string, dns: string[]): string[] {
  if (dns.length) return dns
  return host
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^nameserver\s/.test(l))
    .map((l) => l.split(/\s+/)[1])
    .filter((ip) => ip && !/^127\.|^::1$/.test(ip))
}

/** The image's /etc/host.conf with `multi on`, so glibc returns every address /etc/hosts lists for a name. */
export function hostConf(image: string): string {
  const kept = image.split('\n').filter((l) => l.trim() && !/^\s*multi\b/.test(l))
  return [...kept, 'multi on'].join('\n') + '\n'
}

function unique(items: string[]): string[] {
  return [...new Set(items.filter(Boolean))]
}

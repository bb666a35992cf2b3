import { isDnsName, isIP } from './addresses.js'
import type { Fail } from './cast.js'
import { isPlainDict, type Dict } from './data.js'
import type { Project, Service } from './project.js'

/**
 * Checks on values the schema lets through but the engine would choke on, or
 * would write raw into /etc/hosts, resolv.conf or a runtime spec. They follow
 * what Docker itself accepts, so a file `pier config` passes does not fail
 * later in `up` (or worse, inject lines into a container's files).
 */
export function checkValues(project: Project, doc: Dict, fail: Fail): void {
  for (const [name, service] of Object.entries(project.services)) checkService(name, service, fail)
  checkDependencyCycles(project, fail)
  checkExternalVolumes(doc, fail)
}

/** Docker's rule for container names (daemon/names: RestrictedNamePattern). */
const CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
// Every block is guarded by the attribute's presence: this runs for each service of a large project.
function checkService(name: string, s: Service, fail: Fail): void {
  const at = `services.${name}`
  if (s.container_name !== undefined && !CONTAINER_NAME.test(s.container_name)) {
    fail(`${at}.container_name`, `invalid container name ${JSON.stringify(s.container_name)}: use letters, digits, "_", "." and "-", starting with a letter or digit`)
  }
  if (s.hostname) checkDnsName(s.hostname, `${at}.hostname`, 'hostname', fail)
  if (s.domainname) checkDnsName(s.domainname, `${at}.domainname`, 'domainname', fail)
  if (s.networks) {
    for (const network in s.networks) {
      const config = s.networks[network]
      if (!config) continue
      const aliases = config.aliases ?? []
      for (let i = 0; i < aliases.length; i++) checkDnsName(aliases[i], `${at}.networks.${network}.aliases[${i}]`, 'alias', fail)
      const ips = config.link_local_ips ?? []
      for (let i = 0; i < ips.length; i++) {
        if (!isIP(ips[i])) fail(`${at}.networks.${network}.link_local_ips[${i}]`, `invalid IP address ${JSON.stringify(ips[i])}`)
      }
    }
  }
  const dns = s.dns ?? []
  for (let i = 0; i < dns.length; i++) {
    if (!isIP(dns[i])) fail(`${at}.dns[${i}]`, `invalid DNS server ${JSON.stringify(dns[i])}: use an IPv4 or IPv6 address`)
  }
  const search = s.dns_search ?? []
  for (let i = 0; i < search.length; i++) {
    if (search[i] !== '.' && !isDnsName(search[i])) fail(`${at}.dns_search[${i}]`, `invalid search domain ${JSON.stringify(search[i])}: use a domain name`)
  }
  const options = s.dns_opt ?? []
  for (let i = 0; i < options.length; i++) {
    if (/\s/.test(options[i])) fail(`${at}.dns_opt[${i}]`, `invalid DNS option ${JSON.stringify(options[i])}: options have no spaces`)
  }
  if (s.extra_hosts) {
    for (const host in s.extra_hosts) {
      if (host === '' || /\s/.test(host)) fail(`${at}.extra_hosts`, `invalid extra host name ${JSON.stringify(host)}: a host name has no spaces`)
      for (const ip of s.extra_hosts[host]) {
        if (ip !== 'host-gateway' && !isIP(ip)) fail(`${at}.extra_hosts`, `invalid address ${JSON.stringify(ip)} for extra host "${host}": use an IP address or host-gateway`)
      }
    }
  }
  for (const key in s.environment) {
    if (key === '' || /[\s=]/.test(key)) fail(`${at}.environment.${key}`, `invalid environment variable name ${JSON.stringify(key)}: a name has no spaces or "="`)
  }
  if (s.stop_signal !== undefined && !isSignal(s.stop_signal)) {
    fail(`${at}.stop_signal`, `unknown signal ${JSON.stringify(s.stop_signal)}: use a Linux signal name (SIGTERM, SIGINT, …) or number`)
  }
  if (s.cap_add) checkCapabilities(s.cap_add, `${at}.cap_add`, fail)
  if (s.cap_drop) checkCapabilities(s.cap_drop, `${at}.cap_drop`, fail)
  if (s.cpus !== undefined) checkCpus(s.cpus, `${at}.cpus`, fail)
  if (s.deploy?.resources) {
    checkCpus(s.deploy.resources.limits?.cpus, `${at}.deploy.resources.limits.cpus`, fail)
    checkCpus(s.deploy.resources.reservations?.cpus, `${at}.deploy.resources.reservations.cpus`, fail)
  }
  if ((s.tmpfs?.length ?? 0) + s.volumes.length > 1) checkMountTargets(at, s, fail)
  const watch = s.develop?.watch ?? []
  for (let i = 0; i < watch.length; i++) {
    const rule = watch[i]
    if ((rule.target === undefined || rule.target === '') && rule.action !== 'rebuild' && rule.action !== 'restart') {
      fail(`${at}.develop.watch[${i}]`, `a "${rule.action}" watch rule needs a target (the path in the container)`)
    }
  }
}

function checkDnsName(value: string, path: string, what: string, fail: Fail): void {
  if (!isDnsName(value)) fail(path, `invalid ${what} ${JSON.stringify(value)}: use a DNS name (letters, digits, "-", dots)`)
}

function checkCapabilities(caps: string[], path: string, fail: Fail): void {
  for (let i = 0; i < caps.length; i++) {
    if (!isCapability(caps[i])) fail(`${path}[${i}]`, `unknown capability ${JSON.stringify(caps[i])}: use a Linux capability name (NET_ADMIN, SYS_TIME, …) or ALL`)
  }
}

function checkCpus(value: number | undefined, path: string, fail: Fail): void {
  if (value !== undefined && value < 0) fail(path, `invalid cpus ${value}: use a number of CPUs, 0 or more`)
}

/** Two mounts on one target: Docker refuses the container; say so now (compose-go's check). */
function checkMountTargets(at: string, s: Service, fail: Fail): void {
  const seen = new Map<string, string>()
  const claim = (target: string, where: string) => {
    const other = seen.get(target)
    if (other) fail(where, `target ${target} is already mounted by ${other}: mount one thing per target`)
    seen.set(target, where)
  }
  for (const [i, entry] of (s.tmpfs ?? []).entries()) claim(entry.split(':')[0], `${at}.tmpfs[${i}]`)
  for (const [i, mount] of s.volumes.entries()) claim(mount.target, `${at}.volumes[${i}]`)
}

/** depends_on must not loop (a service on itself included): the planner could never order it. */
function checkDependencyCycles(project: Project, fail: Fail): void {
  const state = new Map<string, 'visiting' | 'done'>()
  // One shared stack, not a copied chain per call: a chain of a thousand services stays linear.
  const stack: string[] = []
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(name)), name]
      fail(`services.${cycle[cycle.length - 2]}.depends_on`, `dependency cycle: ${cycle.join(' -> ')}: remove one of these depends_on`)
    }
    state.set(name, 'visiting')
    stack.push(name)
    for (const dep of Object.keys(project.services[name]?.depends_on ?? {})) if (dep in project.services) visit(dep)
    stack.pop()
    state.set(name, 'done')
  }
  for (const name of Object.keys(project.services)) visit(name)
}

/** An external volume is only looked up by name: settings for creating it would be silently ignored. */
function checkExternalVolumes(doc: Dict, fail: Fail): void {
  if (!isPlainDict(doc.volumes)) return
  for (const [key, raw] of Object.entries(doc.volumes)) {
    if (!isPlainDict(raw) || raw.external === undefined || raw.external === false || raw.external === 'false') continue
    if (isPlainDict(raw.external) && raw.external.name !== undefined && raw.name !== undefined && raw.external.name !== raw.name) {
      fail(`volumes.${key}`, `volume "${key}" sets both name and external.name: keep name (external.name is the old form)`)
    }
    for (const attr of Object.keys(raw)) {
      if (attr === 'name' || attr === 'external' || attr.startsWith('x-')) continue
      fail(`volumes.${key}.${attr}`, `volume "${key}" is external, so "${attr}" cannot be set: pier never creates it`)
    }
  }
}

const SIGNALS = new Set([
  'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'IOT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM', 'STKFLT',
  'CHLD', 'CLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'POLL', 'PWR', 'SYS', 'RTMIN', 'RTMAX',
])

/** Docker's ParseSignal: a number 1–64, or a name with or without SIG, RTMIN+n and RTMAX-n included. */
export function isSignal(value: string): boolean {
  if (/^\d+$/.test(value)) return Number(value) >= 1 && Number(value) <= 64
  const name = value.toUpperCase().replace(/^SIG/, '')
  const rt = /^(RTMIN\+|RTMAX-)(\d+)$/.exec(name)
  if (rt) return Number(rt[2]) >= 1 && Number(rt[2]) <= 30
  return SIGNALS.has(name)
}

const CAPABILITIES = new Set([
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
])

/** Linux capability names, any case, with or without CAP_ (Docker normalizes both); ALL for every one. */
export function isCapability(value: string): boolean {
  const name = value.toUpperCase().replace(/^CAP_/, '')
  return name === 'ALL' || CAPABILITIES.has(name)
}

/** Address and name syntax, checked the way Docker (Go's net package) reads them; nothing is ever looked up. */

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

/**
 * An IPv4 or IPv6 address literal, as Go's net.ParseIP reads one (no zone,
 * no brackets); never a name, so nothing is looked up. Written here rather
 * than taken from node:net, whose loading costs more than the check.
 */
export function isIP(text: string): boolean {
  if (IPV4.test(text)) return true
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return false
  try {
    new URL(`http://[${text}]/`)
    return true
  } catch {
    return false
  }
}

/** A DNS name: dot-separated labels of letters, digits, `_` and `-`, at most 63 each, 253 in all. */
const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/

export function isDnsName(name: string): boolean {
  if (name === '' || name.length > 253) return false
  return name.replace(/\.$/, '').split('.').every((label) => DNS_LABEL.test(label))
}

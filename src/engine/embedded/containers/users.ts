import { EngineError } from '../../errors.js'
import { readInRoot } from './inroot.js'

export interface User {
  uid: number
  gid: number
  additionalGids: number[]
  home: string
}

/**
 * Resolves `user` (`name`, `uid`, `name:group`, `uid:gid`) as Docker does,
 * names looked up in the image's /etc/passwd and /etc/group (the topmost
 * layer that has the file wins). An empty user is root.
 */
export async function resolveUser(user: string | undefined, layers: string[]): Promise<User> {
  return resolveWith(user, topmost(layers, 'etc/passwd'), topmost(layers, 'etc/group'))
}

/**
 * The same, looked up in a container's root filesystem (as it is now: Docker
 * reads the container's files, so a user added by the container counts), and
 * with `groupAdd` (names or numbers, as group_add takes them) added to the
 * supplementary groups.
 */
export async function resolveUserInRoot(user: string | undefined, rootfs: string, groupAdd: string[] = []): Promise<User> {
  const groupText = readInRoot(rootfs, '/etc/group') ?? ''
  const resolved = resolveWith(user, readInRoot(rootfs, '/etc/passwd') ?? '', groupText)
  if (groupAdd.length === 0) return resolved
  const group = parse(groupText)
  const extra = groupAdd.map((g) => {
    if (/^\d+$/.test(g)) return Number(g)
    const entry = group.find((e) => e[0] === g)
    if (!entry) throw new EngineError('invalid', `group_add: unable to find group ${g}: no matching entries in the image's /etc/group`)
    return Number(entry[2])
  })
  return { ...resolved, additionalGids: [...new Set([...resolved.additionalGids, ...extra])] }
}

function resolveWith(user: string | undefined, passwdText: string, groupText: string): User {
  const [userPart, groupPart] = (user || '0').split(':')
  const passwd = parse(passwdText)
  const group = parse(groupText)
  let uid: number
  let gid: number
  let home = '/'
  let name: string | undefined
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart)
    const entry = passwd.find((p) => Number(p[2]) === uid)
    gid = entry ? Number(entry[3]) : 0
    home = entry?.[5] || '/'
    name = entry?.[0]
  } else {
    const entry = passwd.find((p) => p[0] === userPart)
    if (!entry) throw new EngineError('invalid', `unable to find user ${userPart}: no matching entries in the image's /etc/passwd`)
    uid = Number(entry[2])
    gid = Number(entry[3])
    home = entry[5] || '/'
    name = entry[0]
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart)
    else {
      const entry = group.find((g) => g[0] === groupPart)
      if (!entry) throw new EngineError('invalid', `unable to find group ${groupPart}: no matching entries in the image's /etc/group`)
      gid = Number(entry[2])
    }
  }
  const additionalGids = name ? group.filter((g) => (g[3] ?? '').split(',').includes(name!)).map((g) => Number(g[2])) : []
  return { uid, gid, additionalGids: [...new Set(additionalGids)].filter((g) => g !== gid), home }
}

/** The file in the topmost layer that has it, read inside that layer (a link in a layer never leads to the host). */
function topmost(layers: string[], path: string): string {
  for (const layer of [...layers].reverse()) {
    const text = readInRoot(layer, path)
    if (text !== undefined) return text
  }
  return ''
}

function parse(text: string): string[][] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'))
}

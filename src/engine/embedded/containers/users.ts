import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EngineError } from '../../errors.js'

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
  const [userPart, groupPart] = (user || '0').split(':')
  const passwd = parse(await topmost(layers, 'etc/passwd'))
  const group = parse(await topmost(layers, 'etc/group'))
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

async function topmost(layers: string[], path: string): Promise<string> {
  for (const layer of [...layers].reverse()) {
    try {
      return await readFile(join(layer, path), 'utf8')
    } catch {
      // not in this layer
    }
  }
  return ''
}

function parse(text: string): string[][] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'))
}

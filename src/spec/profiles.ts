import { SpecError } from './errors.js'
import { isPlainDict, type Dict } from './data.js'
import { closest } from './suggest.js'

export interface ProfileSelection {
  /** Services that take part in this run. */
  active: Set<string>
  /** Profiles enabled, including those of services named on the command line. */
  enabled: string[]
}

/**
 * Decides which services are active. A service without `profiles` always is;
 * one with profiles is when one of them is enabled (`*` enables all). Naming a
 * service on the command line enables its profiles.
 */
export function selectProfiles(services: Dict, enabled: string[], named: string[]): ProfileSelection {
  const profilesOf = (name: string): string[] => {
    const s = services[name]
    return isPlainDict(s) && Array.isArray(s.profiles) ? s.profiles.map(String) : []
  }
  for (const name of named) {
    if (!(name in services)) {
      const guess = closest(name, Object.keys(services))
      throw new SpecError('reference', `no such service: "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; the services are: ${Object.keys(services).sort().join(', ')}`)
    }
  }
  const on = new Set(enabled.filter((p) => p !== ''))
  for (const name of named) for (const p of profilesOf(name)) on.add(p)
  const all = on.has('*')
  const active = new Set<string>()
  for (const name of Object.keys(services)) {
    const profiles = profilesOf(name)
    if (profiles.length === 0 || all || profiles.some((p) => on.has(p))) active.add(name)
  }
  return { active, enabled: [...on].sort() }
}

/** Every profile any service declares, sorted (`pier config --profiles`). */
export function declaredProfiles(services: Dict): string[] {
  const out = new Set<string>()
  for (const s of Object.values(services)) if (isPlainDict(s) && Array.isArray(s.profiles)) for (const p of s.profiles) out.add(String(p))
  return [...out].sort()
}

import { SpecError } from '../../spec/errors.js'
import { loadModel, loadProject, type LoadOptions } from '../../spec/load.js'
import { projectDocument, toJson, toYaml } from '../../spec/serialize.js'
import type { ConfigFlags } from './config.js'

/** What `pier config` prints, or undefined for --quiet. */
export async function config(options: LoadOptions, flags: ConfigFlags, services: string[]): Promise<string | undefined> {
  if (flags.format !== 'yaml' && flags.format !== 'json') {
    throw new SpecError('invalid-value', `unknown format "${flags.format}": use yaml, json or kubernetes`)
  }
  const lines = (items: string[]) => (items.length ? items.join('\n') + '\n' : '')
  const format = (doc: unknown) => (flags.format === 'json' ? toJson(doc) : toYaml(doc))

  // Profiles are listed from the merged model: a listing must work even while
  // a service of a disabled profile is still depended on.
  if (flags.profiles || !flags.interpolate || !flags.normalize) {
    const model = await loadModel({ ...options, interpolate: flags.interpolate })
    if (flags.quiet) return undefined
    if (flags.profiles) return lines(model.declaredProfiles)
    return format(selectServices(model.document, services))
  }

  const project = await loadProject(options)
  if (flags.quiet) return undefined
  if (flags.services) return lines(Object.keys(project.services))
  if (flags.volumes) return lines(Object.keys(project.volumes))
  if (flags.networks) return lines(Object.keys(project.networks))
  if (flags.images) return lines(Object.values(project.services).map((s) => s.image ?? `${project.name}-${s.name}`))
  return format(selectServices(projectDocument(project), services))
}

/** With services named, only they are printed (their dependencies too, as Compose does). */
function selectServices(doc: Record<string, unknown>, names: string[]): Record<string, unknown> {
  if (names.length === 0) return doc
  const all = (doc.services ?? {}) as Record<string, Record<string, unknown>>
  const keep = new Set<string>()
  const visit = (name: string) => {
    if (keep.has(name) || !all[name]) return
    keep.add(name)
    const deps = all[name].depends_on
    for (const dep of Array.isArray(deps) ? deps : Object.keys((deps as object) ?? {})) visit(String(dep))
  }
  names.forEach(visit)
  return { ...doc, services: Object.fromEntries(Object.entries(all).filter(([n]) => keep.has(n))) }
}

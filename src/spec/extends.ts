import { dirname } from 'node:path'
import { SpecError } from './errors.js'
import { readComposeFile, type FileContext } from './files.js'
import { mergeService, stripMarkers } from './merge.js'
import { isPlainDict, Override, Reset, type Dict } from './data.js'
import { rebaseDocument } from './paths.js'
import { displayName } from './source.js'
import type { Lookup } from './template.js'

const MAIN = ''

/**
 * Resolves `extends` in every service: the base service (from the same
 * project or from another file, chained as deep as needed) is merged under the
 * extending one with the usual merge rules. Another file's relative paths
 * resolve against that file's directory. A cycle is refused with its chain.
 */
export async function applyExtends(doc: Dict, lookup: Lookup, ctx: FileContext): Promise<Dict> {
  if (!isPlainDict(doc.services)) return doc
  const services = doc.services
  if (!Object.values(services).some((s) => isPlainDict(s) && s.extends !== undefined)) return doc

  const files = new Map<string, Promise<Dict>>()
  const resolved = new Map<string, Promise<unknown>>()

  const loadFile = (path: string): Promise<Dict> => {
    let file = files.get(path)
    if (!file) {
      file = readComposeFile(path, lookup, ctx).then((data) => {
        const rebased = rebaseDocument(data, dirname(path))
        return isPlainDict(rebased.services) ? rebased.services : {}
      })
      files.set(path, file)
    }
    return file
  }

  const resolve = async (name: string, pool: Dict, file: string, chain: string[]): Promise<unknown> => {
    const id = `${file}#${name}`
    if (chain.includes(id)) {
      const names = [...chain.slice(chain.indexOf(id)), id].map((c) => c.split('#')[1])
      throw new SpecError('extends', `extends cycle: ${names.join(' -> ')}`, { loc: locate(file, chain[chain.length - 1]), path: `services.${name}.extends` })
    }
    const service = pool[name]
    if (!isPlainDict(service) || service.extends === undefined) return service
    let memo = resolved.get(id)
    if (memo) return memo
    memo = (async () => {
      const ext = typeof service.extends === 'string' ? { service: service.extends } : (service.extends as Dict)
      const baseName = String(ext.service)
      const baseFile = typeof ext.file === 'string' ? ext.file : file
      const basePool = baseFile === file ? pool : await loadFile(baseFile)
      if (!(baseName in basePool)) {
        const where = baseFile === MAIN ? 'in this project' : `in ${displayName(baseFile)}`
        throw new SpecError('extends', `cannot extend service "${baseName}": no such service ${where}`, {
          loc: ctx.sources.locate(`services.${name}.extends`),
          path: `services.${name}.extends`,
        })
      }
      const base = await resolve(baseName, basePool, baseFile, [...chain, id])
      const { extends: _drop, ...own } = service
      const { extends: _dropBase, ...baseOwn } = base as Dict
      // Markers are spent at the level they were written on: a `!override` in the middle of a chain
      // replaces what is below it, and the services extending it merge with the result as usual.
      if (!ctx.markers) return mergeService(baseOwn, own)
      const merged = mergeService(hasMarkers(baseOwn) ? stripMarkers(baseOwn) : baseOwn, own)
      return hasMarkers(own) ? stripMarkers(merged) : merged
    })()
    resolved.set(id, memo)
    return memo
  }

  const locate = (file: string, id: string | undefined) => {
    const name = id?.split('#')[1]
    return name ? ctx.sources.locate(`services.${name}.extends`, file === MAIN ? undefined : file) : undefined
  }

  const out: Dict = {}
  for (const name of Object.keys(services)) out[name] = await resolve(name, services, MAIN, [])
  return { ...doc, services: out }
}

/** Whether a service definition holds a `!reset` or `!override` anywhere (most hold none). */
function hasMarkers(value: unknown): boolean {
  if (value instanceof Reset || value instanceof Override) return true
  if (Array.isArray(value)) return value.some(hasMarkers)
  if (isPlainDict(value)) {
    for (const key in value) if (hasMarkers(value[key])) return true
  }
  return false
}

import type { HistoryEntry } from '../../engine.js'
import { familiarName } from '../../reference.js'
import type { FullConfigJson, HistoryJson } from './new-image.js'
import type { ImageStore } from './store.js'

/**
 * An image's history, newest first, from its config's `history` (each
 * entry that is not `empty_layer` made the next layer, bottom first, as
 * the image spec pairs them), sizes from the unpacked layers. An image
 * with no history (some archives) gets one entry per layer. The top entry
 * carries the image's ID and names; the others are `<missing>`, as Docker
 * shows a pulled image's (pier keeps no parent chain).
 */
export async function imageHistory(store: ImageStore, ref: string): Promise<HistoryEntry[]> {
  const record = await store.require(ref)
  const json = (await store.config(record)) as FullConfigJson
  const data = await store.catalog.read()
  const sizes = data.layerSizes ?? {}
  const layers = record.layers.map((l) => l.diffId)
  const history: HistoryJson[] = json.history?.length ? json.history : layers.map(() => ({ created: json.created, created_by: '' }))
  let next = 0
  const entries: HistoryEntry[] = history.map((h) => {
    const layer = h.empty_layer ? undefined : layers[next++]
    return { ...(h.created ? { created: h.created } : {}), createdBy: h.created_by ?? '', size: layer ? (sizes[layer] ?? 0) : 0, comment: h.comment ?? '', tags: [] }
  })
  entries.reverse()
  if (entries[0]) {
    entries[0].id = record.id
    entries[0].tags = Object.keys(data.tags).filter((t) => data.tags[t] === record.id).sort().map(familiarName)
  }
  return entries
}

import { readdirSync, readFileSync } from 'node:fs'

/** The inotify watches this process holds: one `inotify wd:` line per watch in /proc/self/fdinfo. */
export function inotifyWatches(): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length
    } catch {
      // An fd closed while listing.
    }
  }
  return n
}

import { mkdir, readFile } from 'node:fs/promises'
import { EngineError } from '../../errors.js'
import { Batcher } from '../../../network/batch.js'
import { runCommand } from '../../../network/commands.js'

/**
 * A container's root filesystem: the image's layers as overlayfs lower
 * directories (top layer first) under the container's own upper directory.
 */
export async function mountRootfs(layers: string[], upper: string, work: string, target: string): Promise<void> {
  if (await isMounted(target)) return
  await mkdir(upper, { recursive: true })
  await mkdir(work, { recursive: true })
  await mkdir(target, { recursive: true })
  // An image with no layers still needs one lower directory.
  const lower = layers.length ? [...layers].reverse().join(':') : upper
  const mounted = await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, target])
  if (mounted.code !== 0) throw new EngineError('runtime', `cannot mount the container's root filesystem (overlayfs): ${mounted.stderr.trim()}`)
}

/** Unmounts of containers removed side by side share one `umount` (network/batch.ts); each target is checked after it. */
const unmounts = new Batcher<string>(async (targets) => {
  await runCommand('umount', targets)
})

export async function unmountRootfs(target: string): Promise<void> {
  if (!(await isMounted(target))) return
  await unmounts.add([target])
  // Still mounted (busy, or the batch failed as a whole): one at a time, lazily as a last resort.
  while (await isMounted(target)) {
    if ((await runCommand('umount', [target])).code !== 0) {
      await runCommand('umount', ['-l', target]).catch(() => undefined)
      break
    }
  }
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8')
  return mounts.split('\n').some((line) => line.split(' ')[4] === target)
}

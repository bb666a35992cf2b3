import { execFile } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { EngineError } from '../../errors.js'

const exec = promisify(execFile)

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
  try {
    await exec('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, target])
  } catch (err: any) {
    throw new EngineError('runtime', `cannot mount the container's root filesystem (overlayfs): ${String(err?.stderr ?? err).trim()}`)
  }
}

export async function unmountRootfs(target: string): Promise<void> {
  while (await isMounted(target)) {
    try {
      await exec('umount', [target])
    } catch {
      await exec('umount', ['-l', target]).catch(() => undefined)
      break
    }
  }
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8')
  return mounts.split('\n').some((line) => line.split(' ')[4] === target)
}

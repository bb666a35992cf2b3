import { existsSync } from 'node:fs'
import { EngineError } from '../engine/errors.js'
import { notFound, runCommand } from './commands.js'

/**
 * The kernel's network objects through iproute2's `ip`, a batch of commands
 * per call: one process sets up a whole bridge or veth pair (about 3 ms),
 * where a netlink client in Node would be a library of its own to keep.
 */
export async function ipBatch(commands: string[], options: { netns?: string; force?: boolean } = {}): Promise<void> {
  if (commands.length === 0) return
  const args = [...(options.netns ? ['-n', options.netns] : []), ...(options.force ? ['-force'] : []), '-batch', '-']
  const { code, stderr } = await run('ip', args, commands.join('\n') + '\n')
  if (code !== 0 && !options.force) throw new EngineError('runtime', `ip ${options.netns ? `(in ${options.netns}) ` : ''}failed: ${firstLine(stderr)}`)
}

/** Runs a command with `input` on stdin (through the command shells: commands.ts); never throws for a non-zero exit. */
export async function run(command: string, args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runCommand(command, args, input)
  if (notFound(result)) throw new EngineError('runtime', `${command} is not installed: apt-get install ${command === 'ip' ? 'iproute2' : command === 'nft' ? 'nftables' : command}`)
  return result
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`)
}

export const NETNS_DIR = '/run/netns'

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`
}

export function netnsExists(name: string): boolean {
  return existsSync(netnsPath(name))
}

function firstLine(text: string): string {
  return text.trim().split('\n').find((l) => l.trim() && !/^Command failed/.test(l))?.replace(/^Error: /, '') ?? 'unknown error'
}

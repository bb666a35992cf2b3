import { readFileSync } from 'node:fs'
import type { ContainerSpec } from '../../engine.js'
import { EngineError } from '../../errors.js'

/**
 * System calls a container may not make unless it holds the capability named
 * beside them (`null`: never, the kernel does not namespace what they touch).
 * This is the effect of Docker's default seccomp profile — which allows a long
 * list and refuses the rest — written as the shorter list it refuses.
 */
const REFUSED: [string[], string | null][] = [
  [['add_key', 'keyctl', 'request_key'], null],
  [['kexec_load', 'kexec_file_load', 'nfsservctl', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old', '_sysctl', 'sysfs'], null],
  [['mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'swapon', 'swapoff', 'quotactl', 'fanotify_init', 'lookup_dcookie', 'name_to_handle_at', 'perf_event_open', 'bpf', 'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'setdomainname', 'sethostname'], 'CAP_SYS_ADMIN'],
  [['open_by_handle_at'], 'CAP_DAC_READ_SEARCH'],
  [['reboot'], 'CAP_SYS_BOOT'],
  [['create_module', 'delete_module', 'finit_module', 'init_module', 'query_module', 'get_kernel_syms'], 'CAP_SYS_MODULE'],
  [['acct'], 'CAP_SYS_PACCT'],
  [['kcmp', 'process_vm_readv', 'process_vm_writev', 'ptrace'], 'CAP_SYS_PTRACE'],
  [['iopl', 'ioperm'], 'CAP_SYS_RAWIO'],
  [['settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64', 'adjtimex'], 'CAP_SYS_TIME'],
  [['vhangup'], 'CAP_SYS_TTY_CONFIG'],
  [['get_mempolicy', 'mbind', 'set_mempolicy', 'move_pages'], 'CAP_SYS_NICE'],
  [['syslog'], 'CAP_SYSLOG'],
]

const ARCHITECTURES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
}

const EPERM = 1

/**
 * The seccomp section of config.json: none for privileged containers and
 * `seccomp=unconfined`, the user's profile for `seccomp=FILE`, else the
 * default above, less what the container's capabilities allow.
 */
export function seccompProfile(spec: ContainerSpec, capabilities: string[]): Record<string, unknown> | undefined {
  if (spec.privileged) return undefined
  const option = spec.securityOpt.find((o) => /^seccomp[=:]/.test(o))
  if (option) {
    const value = option.slice('seccomp='.length)
    if (value === 'unconfined') return undefined
    try {
      return JSON.parse(readFileSync(value, 'utf8')) as Record<string, unknown>
    } catch (err) {
      throw new EngineError('invalid', `container ${spec.name}: cannot read the seccomp profile ${value}: ${(err as Error).message}`)
    }
  }
  const names = REFUSED.filter(([, cap]) => cap === null || !capabilities.includes(cap)).flatMap(([calls]) => calls)
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ARCHITECTURES[process.arch] ?? [],
    syscalls: [{ names, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }],
  }
}

import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The engine's short commands (ip, nft, mount, umount, runc kill/delete/
 * list) run by a few long-lived shells that pier feeds through a pipe,
 * rather than spawned one by one from pier's own process.
 *
 * Why: a spawn from Node forks the whole Node process (~100 MB mapped) on
 * its main thread: about 2 ms of CPU each on an idle machine and tens of
 * milliseconds of wall time on a loaded one, and an `up` of 30 services made
 * ~90 of them, a `down` ~125 (bench/RESULTS.md). A shell forks itself for a
 * fraction of that, and pier's thread only writes a line and reads one.
 *
 * Each command's output goes to two files in the shell's own directory
 * (read and removed when it ends; the directory goes with the shell), its
 * input through a here-document, and the shell answers `<job> <exit code>`
 * on its stdout. The shells run in their own
 * process group (a Ctrl-C for pier does not cut a command halfway; pier
 * lets the steps running finish) and exit when pier does (their stdin closes).
 */
export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** At most this many shells, so that slow commands (a runc delete, an unmount) do not all queue behind one another. */
const MAX_SHELLS = 6
/** The exit code of sh for a command it cannot find. */
const NOT_FOUND = 127

interface Job {
  resolve: (result: CommandResult) => void
  reject: (err: Error) => void
}

class Shell {
  readonly pending = new Map<number, Job>()
  private readonly child: ChildProcess
  private buffer = ''
  alive = true
  /** Given a command that has not answered yet (ShellPool.run). */
  busy = false

  /** Where its commands' output goes; the shell removes it when it exits (pier gone, even killed: its stdin closes). */
  private readonly dir = mkdtempSync(join(tmpdir(), 'pier-commands-'))

  constructor(onExit: (shell: Shell) => void) {
    this.child = spawn('/bin/sh', [], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] })
    this.child.unref()
    this.child.stdin!.on('error', () => undefined)
    this.child.stdin!.write(`trap ${quote(`rm -rf ${quote(this.dir)}`)} EXIT\n`)
    this.child.stdout!.setEncoding('utf8')
    this.child.stdout!.on('data', (text: string) => this.answer(text))
    this.idle()
    const gone = () => {
      if (!this.alive) return
      this.alive = false
      onExit(this)
      for (const job of this.pending.values()) job.reject(new Error('the command shell exited'))
      this.pending.clear()
    }
    this.child.on('exit', gone)
    this.child.on('error', gone)
  }

  run(id: number, command: string, args: string[], input: string | undefined): Promise<CommandResult> {
    const base = join(this.dir, String(id))
    let line = `${[command, ...args].map(quote).join(' ')} >${base}.out 2>${base}.err`
    if (input === undefined) line += ' </dev/null\n'
    else {
      const end = `PIER_INPUT_${randomBytes(8).toString('hex')}`
      line += ` <<'${end}'\n${input}${input.endsWith('\n') || input === '' ? '' : '\n'}${end}\n`
    }
    line += `echo "${id} $?"\n`
    return new Promise<CommandResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.keepAlive()
      this.child.stdin!.write(line)
    })
  }

  /** Only while a command runs does the shell keep pier's process alive. */
  private keepAlive(): void {
    ;(this.child.stdout as unknown as { ref?: () => void }).ref?.()
  }

  private idle(): void {
    ;(this.child.stdout as unknown as { unref?: () => void }).unref?.()
    ;(this.child.stdin as unknown as { unref?: () => void }).unref?.()
  }

  private answer(text: string): void {
    this.buffer += text
    let end: number
    while ((end = this.buffer.indexOf('\n')) >= 0) {
      const [id, code] = this.buffer.slice(0, end).split(' ').map(Number)
      this.buffer = this.buffer.slice(end + 1)
      const job = this.pending.get(id)
      if (!job) continue
      this.pending.delete(id)
      const base = join(this.dir, String(id))
      const read = (path: string) => {
        try {
          return readFileSync(path, 'utf8')
        } catch {
          return ''
        }
      }
      const result = { code, stdout: read(`${base}.out`), stderr: read(`${base}.err`) }
      rmSync(`${base}.out`, { force: true })
      rmSync(`${base}.err`, { force: true })
      job.resolve(result)
    }
    if (this.pending.size === 0) this.idle()
  }
}

class ShellPool {
  private readonly shells: Shell[] = []
  /** Commands waiting for a shell: kept here, not written ahead into a busy shell's pipe (see run). */
  private readonly waiting: (() => void)[] = []
  private next = 0

  /**
   * A shell is given one command at a time. Commands written ahead into its
   * pipe would still run after pier has gone (killed, or exited on an
   * error), maybe long after: an `ip link add` of a bridge that a `down`
   * has removed meanwhile. Like a spawned process, a command either has
   * started when pier goes, or never runs.
   */
  async run(command: string, args: string[], input?: string): Promise<CommandResult> {
    const shell = await this.idleShell()
    try {
      return await shell.run(this.next++, command, args, input)
    } finally {
      shell.busy = false
      this.waiting.shift()?.()
    }
  }

  /** An idle shell (a new one while there may be more), else the first to become idle. */
  private async idleShell(): Promise<Shell> {
    for (;;) {
      let shell = this.shells.find((s) => !s.busy && s.alive)
      if (!shell && this.shells.length < MAX_SHELLS) {
        shell = new Shell((gone) => {
          this.shells.splice(this.shells.indexOf(gone), 1)
          this.waiting.shift()?.()
        })
        this.shells.push(shell)
      }
      if (shell) {
        shell.busy = true
        return shell
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
  }
}

const pool = new ShellPool()

/**
 * Runs `command args` (a program on PATH, or a path) with `input` on its
 * stdin; never throws for a non-zero exit. A program that is not installed
 * exits 127 with sh's "not found" message.
 */
export function runCommand(command: string, args: string[], input?: string): Promise<CommandResult> {
  return pool.run(command, args, input)
}

/** Whether a result is sh's "no such program" rather than the program's own failure. */
export function notFound(result: CommandResult): boolean {
  return result.code === NOT_FOUND && /not found/.test(result.stderr)
}

/** An argument quoted for sh. */
function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

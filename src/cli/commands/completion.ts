import type { Command } from 'commander'
import { UsageError } from '../../errors.js'

/**
 * `pier completion bash|zsh|fish`: a completion script generated from the
 * program itself (commands, their flags), completing service names by asking
 * `pier config --services` in the current directory.
 */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .action((shell: string) => {
      const commands = program.commands.map((c) => ({ name: c.name(), flags: c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)), description: c.description() }))
      const global = program.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f))
      if (shell === 'bash') process.stdout.write(bash(commands, global))
      else if (shell === 'zsh') process.stdout.write(`autoload -U +X bashcompinit && bashcompinit\n${bash(commands, global)}`)
      else if (shell === 'fish') process.stdout.write(fish(commands, global))
      else throw new UsageError(`unknown shell "${shell}": use bash, zsh or fish`)
    })
}

interface CommandInfo {
  name: string
  flags: string[]
  description: string
}

/** Commands whose arguments are services. */
const TAKES_SERVICES = ['up', 'ps', 'logs', 'start', 'stop', 'restart', 'kill', 'rm', 'pause', 'unpause', 'wait', 'top', 'exec', 'run', 'port', 'build', 'pull', 'push', 'config', 'create', 'watch', 'events', 'cp', 'commit', 'export']

function bash(commands: CommandInfo[], global: string[]): string {
  const cases = commands.map((c) => `    ${c.name}) opts="${[...c.flags, ...global].join(' ')}" ;;`).join('\n')
  return `# pier completion for bash: eval "$(pier completion bash)"
_pier() {
  local cur cmd i opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} ${global.join(' ')}" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ " ${TAKES_SERVICES.join(' ')} " == *" $cmd "* ]]; then
    COMPREPLY=($(compgen -W "$(pier config --services 2>/dev/null)" -- "$cur"))
  fi
}
complete -F _pier pier
`
}

function fish(commands: CommandInfo[], global: string[]): string {
  const lines = ['# pier completion for fish: pier completion fish | source', 'complete -c pier -f']
  for (const c of commands) lines.push(`complete -c pier -n __fish_use_subcommand -a ${c.name} -d ${JSON.stringify(c.description)}`)
  for (const c of commands) {
    for (const f of c.flags) lines.push(`complete -c pier -n "__fish_seen_subcommand_from ${c.name}" ${f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`}`)
    if (TAKES_SERVICES.includes(c.name)) lines.push(`complete -c pier -n "__fish_seen_subcommand_from ${c.name}" -a "(pier config --services 2>/dev/null)"`)
  }
  for (const f of global) lines.push(`complete -c pier ${f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`}`)
  return lines.join('\n') + '\n'
}

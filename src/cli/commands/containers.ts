import type { Command } from 'commander'
import type { GlobalFlags } from '../global.js'

const collect = (value: string, previous: string[] = []) => [...previous, value]

/**
 * Commands on a project's existing containers (logs, start, stop, restart,
 * kill, rm, pause, unpause, wait, top, exec) and `ls`; thin: the work is in
 * ./containers-run.ts, loaded when one runs.
 */
export function registerContainers(program: Command): void {
  const run = async <T extends unknown[]>(command: Command, fn: (m: typeof import('./containers-run.js'), flags: GlobalFlags, ...args: T) => Promise<void>, ...args: T) => {
    const m = await import('./containers-run.js')
    await fn(m, command.optsWithGlobals() as GlobalFlags, ...args)
  }
  const services = (c: Command) => c.argument('[services...]', 'only these services')

  services(program.command('logs').description("show the containers' output, merged in time order"))
    .option('-f, --follow', 'keep following new output')
    .option('-n, --tail <lines>', 'only the last lines of each container ("all" for all)', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'only output since a time (RFC 3339) or a duration ago (10m)')
    .option('--until <time>', 'only output until a time or a duration ago')
    .option('--no-color', 'no colours')
    .option('--no-log-prefix', 'no container name in front of each line')
    .option('--index <n>', 'only this replica of each service')
    .action((names: string[], opts, command: Command) => run(command, (m, f) => m.logs(f, names, opts)))

  services(program.command('start').description('start existing containers')).action((names: string[], _o, command: Command) => run(command, (m, f) => m.start(f, names)))
  services(program.command('stop').description('stop running containers'))
    .option('-t, --timeout <seconds>', 'stop grace period, over the services\' own')
    .action((names: string[], opts, command: Command) => run(command, (m, f) => m.stop(f, names, opts)))
  services(program.command('restart').description('restart containers'))
    .option('-t, --timeout <seconds>', 'stop grace period, over the services\' own')
    .action((names: string[], opts, command: Command) => run(command, (m, f) => m.restart(f, names, opts)))
  services(program.command('kill').description('send a signal to running containers'))
    .option('-s, --signal <signal>', 'the signal', 'SIGKILL')
    .action((names: string[], opts, command: Command) => run(command, (m, f) => m.kill(f, names, opts)))
  services(program.command('rm').description('remove stopped containers'))
    .option('-f, --force', "don't ask")
    .option('-s, --stop', 'stop the containers first')
    .option('-v, --volumes', 'remove their anonymous volumes too')
    .action((names: string[], opts, command: Command) => run(command, (m, f) => m.rm(f, names, opts)))
  services(program.command('pause').description('pause running containers')).action((names: string[], _o, command: Command) => run(command, (m, f) => m.pause(f, names, true)))
  services(program.command('unpause').description('unpause paused containers')).action((names: string[], _o, command: Command) => run(command, (m, f) => m.pause(f, names, false)))
  services(program.command('wait').description('wait for containers to stop; exit with the first one\'s code')).action((names: string[], _o, command: Command) => run(command, (m, f) => m.wait(f, names)))
  services(program.command('top').description('list the processes of running containers')).action((names: string[], _o, command: Command) => run(command, (m, f) => m.top(f, names)))

  program
    .command('exec')
    .description('run a command in a running service container; its exit code is pier\'s')
    .argument('<service>', 'the service')
    .argument('<command...>', 'the command and its arguments')
    .option('-d, --detach', 'run it in the background')
    .option('-e, --env <name=value>', 'set an environment variable (repeatable)', collect)
    .option('-u, --user <user>', 'run as this user')
    .option('-w, --workdir <dir>', 'working directory')
    .option('-T, --no-tty', 'no terminal, even when pier has one')
    .option('--index <n>', 'which replica', '1')
    .option('--privileged', 'with every capability')
    .action((service: string, command: string[], opts, cmd: Command) => run(cmd, (m, f) => m.exec(f, service, command, opts)))

  program
    .command('run')
    .description("run a one-off container with a service's configuration; its exit code is pier's")
    .argument('<service>', 'the service')
    .argument('[command...]', 'the command (default: the service\'s)')
    .option('--rm', 'remove the container when it exits')
    .option('-d, --detach', 'run in the background and print the container name')
    .option('-e, --env <name=value>', 'set an environment variable (repeatable)', collect)
    .option('--env-from-file <file>', 'set environment variables from a .env-style file (repeatable)', collect)
    .option('-u, --user <user>', 'run as this user')
    .option('-w, --workdir <dir>', 'working directory')
    .option('-v, --volume <source:target>', 'mount a volume or host path (repeatable)', collect)
    .option('-p, --publish <port>', 'publish a port, [[IP:]HOST:]CONTAINER[/PROTO] (repeatable)', collect)
    .option('--service-ports', "publish the service's ports")
    .option('--entrypoint <command>', "override the image's entrypoint")
    .option('--name <name>', 'name the container')
    .option('--no-deps', "don't start the service's dependencies")
    .option('-T, --no-tty', 'no terminal, even when pier has one')
    .option('-i, --interactive', 'keep stdin open, even detached (the default, as in Compose)', true)
    .action(async (service: string, command: string[], opts, cmd: Command) => {
      const { run: runOneOff } = await import('./oneoff-run.js')
      await runOneOff(cmd.optsWithGlobals() as GlobalFlags, service, command, opts)
    })

  services(program.command('events').description("print the project's container events as they happen"))
    .option('--json', 'one JSON object per line')
    .option('--format <format>', 'text or json (the same as --json)', 'text')
    .action((names: string[], opts, command: Command) => run(command, (m, f) => m.events(f, names, opts)))

  program
    .command('cp')
    .description('copy files between a service container and this machine (SERVICE:PATH on one side; - for a tar stream)')
    .argument('<source>', 'SERVICE:PATH or a local path')
    .argument('<dest>', 'a local path or SERVICE:PATH')
    .option('--index <n>', 'which replica (default: into a service, every replica; out of one, replica 1)')
    .option('--all', 'one-off containers too')
    .action((source: string, dest: string, opts, command: Command) => run(command, (m, f) => m.cp(f, source, dest, opts)))

  program
    .command('version')
    .description("print pier's version and the engine's")
    .option('--format <format>', 'table or json', 'table')
    .option('--short', 'only the version number')
    .action((opts, command: Command) => run(command, (m, f) => m.version(f, opts)))

  program
    .command('ls')
    .description('list the projects on the engine')
    .option('-a, --all', 'include projects with no running container')
    .option('-q, --quiet', 'only project names')
    .option('--format <format>', 'table or json', 'table')
    .action((opts, command: Command) => run(command, (m, f) => m.ls(f, opts)))
}

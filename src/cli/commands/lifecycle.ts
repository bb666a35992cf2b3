import type { Command } from 'commander'
import type { GlobalFlags } from '../global.js'

const collect = (value: string, previous: string[] = []) => [...previous, value]

/** `pier up`, `pier down`, `pier ps`, `pier port`: thin; the work is in ./lifecycle-run.ts. */
export function registerLifecycle(program: Command): void {
  program
    .command('up')
    .description('create and start the services, with what they depend on')
    .argument('[services...]', 'only these services (and their dependencies)')
    .option('-d, --detach', 'run in the background')
    .option('--build', 'build images before starting, even when they exist')
    .option('--abort-on-container-exit', 'stop everything when a container stops (attached)')
    .option('--abort-on-container-failure', 'stop everything when a container exits with a non-zero code (attached)')
    .option('--exit-code-from <service>', "exit with this service's exit code; implies --abort-on-container-exit")
    .option('--attach <service>', 'follow only these services (repeatable)', collect)
    .option('--attach-dependencies', "follow the named services' dependencies too")
    // commander would read --no-attach as the negation of --attach: main.ts spells it --skip-attach.
    .option('--skip-attach <service>', "(--no-attach) don't follow these services (repeatable)", collect)
    .option('--timestamps', 'show timestamps in the output')
    .option('--no-log-prefix', 'no container name in front of each line')
    .option('--no-color', 'no colours in the output')
    .option('--pull <policy>', 'pull images: always, missing or never (over pull_policy)')
    .option('--quiet-pull', 'pull without progress')
    .option('--force-recreate', 'recreate containers even if nothing changed')
    .option('--no-recreate', 'never recreate existing containers')
    .option('--no-deps', "don't start the named services' dependencies")
    .option('--no-start', 'create without starting')
    .option('--remove-orphans', 'remove containers of services no longer in the project, and exited one-offs (default: COMPOSE_REMOVE_ORPHANS)')
    .option('--scale <service=n>', 'run n replicas of a service (repeatable)', collect)
    .option('--dry-run', 'print the plan and change nothing')
    .option('--parallel <n>', 'at most n engine operations at once')
    .option('--wait', 'wait until the services are running and healthy (implies -d)')
    .option('--wait-timeout <seconds>', 'how long --wait waits', '120')
    .option('-t, --timeout <seconds>', 'stop grace period for containers recreated or removed')
    .option('-w, --watch', 'watch the develop.watch files of the services while attached (see pier watch)')
    .action(async (services: string[], opts, command: Command) => {
      const { up } = await import('./lifecycle-run.js')
      await up(command.optsWithGlobals() as GlobalFlags, services, opts)
    })

  program
    .command('create')
    .description('create the services\' containers (and what they need) without starting them')
    .argument('[services...]', 'only these services (and their dependencies)')
    .option('--build', 'build images first, even when they exist')
    .option('--force-recreate', 'recreate containers even if nothing changed')
    .option('--no-recreate', 'never recreate existing containers')
    .option('--pull <policy>', 'pull images: always, missing or never')
    .option('--remove-orphans', 'remove containers of services no longer in the project')
    .option('--scale <service=n>', 'run n replicas of a service (repeatable)', collect)
    .action(async (services: string[], opts, command: Command) => {
      const { up } = await import('./lifecycle-run.js')
      await up(command.optsWithGlobals() as GlobalFlags, services, { ...opts, detach: true, start: false, deps: true, waitTimeout: '120' })
    })

  program
    .command('down')
    .description("stop and remove the project's containers and networks")
    .argument('[services...]', 'only these services (and those that depend on them)')
    .option('-v, --volumes', 'remove named volumes too')
    .option('-t, --timeout <seconds>', 'stop grace period, over the services\' own')
    .option('--remove-orphans', 'remove one-off containers and those of services no longer in the project (default: COMPOSE_REMOVE_ORPHANS)')
    .option('--rmi <which>', 'remove images too: all (every service\'s) or local (built ones without an image: name)')
    .option('--dry-run', 'print the plan and change nothing')
    .action(async (services: string[], opts, command: Command) => {
      const { down } = await import('./lifecycle-run.js')
      await down(command.optsWithGlobals() as GlobalFlags, services, opts)
    })

  program
    .command('scale')
    .description('set the number of replicas of services, recreating nothing else')
    .argument('<service=n...>', 'services and their replica counts')
    .option('--no-deps', "don't start the services' dependencies")
    .action(async (pairs: string[], opts, command: Command) => {
      const { scale } = await import('./lifecycle-run.js')
      await scale(command.optsWithGlobals() as GlobalFlags, pairs, opts)
    })

  program
    .command('ps')
    .description("list the project's containers")
    .argument('[services...]', 'only these services')
    .option('-a, --all', 'include stopped containers')
    .option('-q, --quiet', 'only container IDs')
    .option('--services', 'only service names')
    .option('--format <format>', 'table, json (one object a line), or a Go template such as "{{.Name}} {{.Status}}"', 'table')
    .option('--status <status>', 'only containers in this state: created, running, paused, restarting, exited, dead (repeatable)', collect)
    .option('--filter <filter>', 'only containers matching status=STATE (repeatable)', collect)
    .action(async (services: string[], opts, command: Command) => {
      const { ps } = await import('./lifecycle-run.js')
      await ps(command.optsWithGlobals() as GlobalFlags, services, opts)
    })

  program
    .command('build')
    .description('build the images of services that have a build section')
    .argument('[services...]', 'only these services')
    .option('--build-arg <name=value>', 'a build argument (repeatable)', collect)
    .option('--no-cache', 'run every step: reuse no cached layer')
    .action(async (services: string[], opts, command: Command) => {
      const { build } = await import('./lifecycle-run.js')
      await build(command.optsWithGlobals() as GlobalFlags, services, opts)
    })

  program
    .command('port')
    .description('print the host address a container port is published on')
    .argument('<service>', 'the service')
    .argument('<private_port>', 'the container port, such as 80 or 53/udp')
    .option('--protocol <protocol>', 'tcp, udp or sctp', 'tcp')
    .option('--index <n>', 'which replica, when the service has several', '1')
    .action(async (service: string, privatePort: string, opts, command: Command) => {
      const { port } = await import('./lifecycle-run.js')
      await port(command.optsWithGlobals() as GlobalFlags, service, privatePort, opts)
    })
}

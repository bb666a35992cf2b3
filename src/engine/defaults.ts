import type { ContainerSpec } from './engine.js'

/**
 * A ContainerSpec with Docker's defaults for everything but its name, image
 * and argv: no network, no limits, no restart, SIGTERM then 10 s. For
 * containers pier makes for itself (a build's RUN) and for tests.
 */
export function defaultContainerSpec(name: string, image: string, argv: string[]): ContainerSpec {
  return {
    name,
    image,
    argv,
    env: {},
    tty: false,
    stdinOpen: false,
    init: false,
    readOnly: false,
    privileged: false,
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    sysctls: {},
    ulimits: {},
    devices: [],
    mounts: [],
    networkMode: 'none',
    networks: [],
    ports: [],
    extraHosts: {},
    dns: [],
    dnsSearch: [],
    dnsOpt: [],
    limits: {},
    restart: { policy: 'no' },
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 10_000,
    labels: {},
  }
}

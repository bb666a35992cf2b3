import { existsSync } from 'node:fs'
import { dockerWithBusybox, hasPodman } from '../../support/dockerd.js'
import { driverSuite } from './driver-suite.js'
import { contractSuite } from './suite.js'

// The docker driver on Podman's Docker-compatible service (podman system service), which the test starts itself.
if (hasPodman()) {
  contractSuite('docker driver on podman', async () => dockerWithBusybox({ 'com.docker.compose.project': `contract-p-${process.pid}` }, 'podman'))
  driverSuite('podman', {
    top: "Podman 4.3's compat top without ps_args runs the container's ps and returns its lines unsplit (one title, one column)",
    registry: 'Podman treats a registry on 127.0.0.1 as HTTPS unless registries.conf lists it insecure, and the test registry has a random port',
    build: 'buildah refuses the test busybox image, whose config has no history ("history lists 1 non-empty layers, but we have 2 layers on disk")',
    ...(existsSync('/usr/lib/podman/netavark') && existsSync('/usr/lib/podman/aardvark-dns') ? {} : { dns: 'names resolve only with netavark and aardvark-dns (apt-get install netavark aardvark-dns)' }),
  })
}
else describe('engine contract: docker driver on podman', () => it('is skipped: podman is not installed (apt-get install podman)'))

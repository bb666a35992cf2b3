import { dockerWithBusybox } from '../../support/dockerd.js'
import { driverSuite } from './driver-suite.js'
import { contractSuite } from './suite.js'

// On DOCKER_HOST's daemon when one answers there, else on a dockerd of the test's own (test/support/dockerd.ts).
contractSuite('docker', async () => dockerWithBusybox({ 'com.docker.compose.project': `contract-p-${process.pid}` }))
driverSuite('docker')

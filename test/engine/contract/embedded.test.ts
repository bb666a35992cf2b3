import { engineWithBusybox } from '../../support/containers.js'
import { contractSuite } from './suite.js'

contractSuite('embedded', async () => engineWithBusybox())

import type { Engine } from './engine.js'
import { EngineError } from './errors.js'

export type EngineName = 'embedded' | 'docker'

/**
 * Opens an engine by name. Drivers are loaded on demand, so a command that
 * needs no engine loads none.
 */
export async function openEngine(name: EngineName = 'embedded', options: { root?: string } = {}): Promise<Engine> {
  switch (name) {
    case 'embedded': {
      // Mounts, namespaces and cgroups need root: say so before anything fails halfway with EPERM.
      if (process.getuid?.() !== 0) throw new EngineError('unsupported', "pier's embedded engine runs as root: run pier as root (for example with sudo)")
      const { EmbeddedEngine } = await import('./embedded/engine.js')
      return new EmbeddedEngine(options)
    }
    case 'docker': {
      // DOCKER_HOST, else /var/run/docker.sock; the API version is negotiated here, so a missing daemon fails at once.
      const { DockerEngine } = await import('./docker/engine.js')
      return DockerEngine.connect()
    }
    default:
      throw new EngineError('invalid', `unknown engine "${name}": use embedded or docker`)
  }
}

export type * from './engine.js'
export { EngineError } from './errors.js'
export { parseReference, formatReference, familiarName } from './reference.js'
export { credentialsFor, eraseCredentials, serverKey, storeCredentials } from './credentials.js'

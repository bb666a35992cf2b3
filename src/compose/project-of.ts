import type { Engine } from '../engine/engine.js'
import { LABEL } from '../labels.js'
import type { Network, Project, Service, Volume } from '../spec/project.js'

/**
 * A project known only by its name, read back from the labels the engine
 * holds: `pier -p NAME down` (and `ps`) where no compose file is, as Compose
 * acts on a project name alone. Its services are those its containers
 * belong to, its networks and volumes those labelled with the project; each
 * carries only what `down` and `ps` read (names, and the image a container
 * runs), so nothing here can be used to create anything.
 */
export async function projectFromEngine(engine: Engine, name: string, workingDir: string): Promise<Project> {
  const labels = { [LABEL.project]: name }
  const [containers, networks, volumes] = await Promise.all([engine.listContainers(labels, { all: true }), engine.listNetworks(labels), engine.listVolumes(labels)])
  const services: Record<string, Service> = {}
  for (const c of containers) {
    const service = c.labels[LABEL.service]
    if (!service || c.labels[LABEL.oneoff] === 'True' || services[service]) continue
    services[service] = { name: service, image: c.image, environment: {}, labels: {}, ports: [], expose: [], volumes: [], depends_on: {} }
  }
  const byKey = <T>(items: { name: string; labels?: Record<string, string> }[], label: string, make: (name: string) => T) =>
    Object.fromEntries(items.map((item) => [item.labels?.[label] ?? item.name, make(item.name)]))
  return {
    name,
    workingDir,
    configFiles: [],
    envFiles: [],
    environment: {},
    profiles: [],
    services,
    disabledServices: {},
    networks: byKey(networks, LABEL.network, (n): Network => ({ name: n })),
    volumes: byKey(volumes, LABEL.volume, (n): Volume => ({ name: n })),
    secrets: {},
    configs: {},
    extensions: {},
  }
}

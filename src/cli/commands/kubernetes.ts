import { Option, type Command } from 'commander'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError } from '../../errors.js'
import type { KubernetesOptions } from '../../kubernetes/index.js'
import { loadOptions, type GlobalFlags } from '../global.js'

/** The flags of `pier k8s` and of `pier convert --format kubernetes`; none has a default, so a flag given without that format is told apart. */
export type KubernetesFlags = KubernetesOptions & { strict?: boolean }

/** Where the manifests go. */
interface OutputFlags {
  quiet?: boolean
  output?: string
}

const FLAGS: (keyof KubernetesFlags)[] = ['namespace', 'publishedAs', 'hostPath', 'liveness', 'volumeSize', 'storageClass', 'strict']

export function addKubernetesOptions(command: Command): Command {
  const group = 'Kubernetes options:'
  return command
    .addOption(new Option('--namespace <name>', 'put every object in this namespace (and write the Namespace)').helpGroup(group))
    .addOption(new Option('--published-as <type>', 'Service type for published ports (default LoadBalancer)').choices(['LoadBalancer', 'NodePort', 'none']).helpGroup(group))
    .addOption(new Option('--host-path', 'convert bind mounts to hostPath volumes (paths must exist on every node)').helpGroup(group))
    .addOption(new Option('--liveness', 'also restart unhealthy containers (healthcheck as a livenessProbe)').helpGroup(group))
    .addOption(new Option('--volume-size <quantity>', 'storage each PersistentVolumeClaim requests (default 1Gi)').helpGroup(group))
    .addOption(new Option('--storage-class <name>', 'storage class of every PersistentVolumeClaim').helpGroup(group))
    .addOption(new Option('--strict', 'fail (exit 1, nothing written) when a Compose field is not converted').helpGroup(group))
}

/** `pier k8s`: the same as `pier convert --format kubernetes`. */
export function registerKubernetes(program: Command): void {
  addKubernetesOptions(
    program
      .command('k8s')
      .description('convert the project to Kubernetes manifests (same as convert --format kubernetes)')
      .argument('[services...]', 'only these services (and what they depend on)')
      .option('-q, --quiet', 'only convert and report; print nothing')
      .option('-o, --output <path>', 'write to this file, or one file per object into this directory (ends with / or exists)'),
  ).action(async (services: string[], flags: KubernetesFlags & OutputFlags, command: Command) => {
    await kubernetes(command.optsWithGlobals() as GlobalFlags, flags, services)
  })
}

/** The Kubernetes flags given without --format kubernetes, as an error. */
export function refuseKubernetesFlags(flags: KubernetesFlags): void {
  const given = FLAGS.find((f) => flags[f] !== undefined)
  if (given) throw new UsageError(`--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies only with --format kubernetes`)
}

/** Converts, prints the warnings, and writes the manifests (nowhere with --quiet, nothing when --strict fails). */
export async function kubernetes(global: GlobalFlags, flags: KubernetesFlags & OutputFlags, services: string[]): Promise<void> {
  const options = kubernetesOptions(flags)
  const { loadProject } = await import('../../spec/load.js')
  const { convertToKubernetes, manifestsYaml } = await import('../../kubernetes/index.js')
  const project = await loadProject(loadOptions(global, services))
  const { documents, warnings } = await convertToKubernetes(project, options, services)
  for (const line of warnings) process.stderr.write(`warning: ${line}\n`)
  if (flags.strict && warnings.length) throw new UsageError(`${warnings.length} Compose field${warnings.length > 1 ? 's are' : ' is'} not converted (--strict): see the warnings above`)
  if (flags.quiet) return
  if (!flags.output) {
    process.stdout.write(await manifestsYaml(documents))
    return
  }
  if (flags.output.endsWith('/') || (await stat(flags.output).catch(() => undefined))?.isDirectory()) {
    // One file per object, numbered in apply order (kubectl apply -f DIR reads them sorted by name).
    await mkdir(flags.output, { recursive: true })
    const width = String(documents.length).length
    for (const [i, doc] of documents.entries()) {
      await writeFile(join(flags.output, `${String(i + 1).padStart(width, '0')}-${doc.kind.toLowerCase()}-${doc.metadata.name}.yaml`), await manifestsYaml([doc]))
    }
    return
  }
  await writeFile(flags.output, await manifestsYaml(documents))
}

function kubernetesOptions(flags: KubernetesFlags): KubernetesOptions {
  if (flags.namespace !== undefined && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(flags.namespace)) {
    throw new UsageError(`invalid --namespace "${flags.namespace}": a namespace is a DNS-1123 label (lower-case letters, digits and '-', at most 63)`)
  }
  if (flags.volumeSize !== undefined && !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(flags.volumeSize)) {
    throw new UsageError(`invalid --volume-size "${flags.volumeSize}": give a Kubernetes quantity such as 512Mi or 10Gi`)
  }
  if (flags.storageClass !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(flags.storageClass)) {
    throw new UsageError(`invalid --storage-class "${flags.storageClass}": a storage class name is a DNS-1123 subdomain`)
  }
  return { namespace: flags.namespace, publishedAs: flags.publishedAs, hostPath: flags.hostPath, liveness: flags.liveness, volumeSize: flags.volumeSize, storageClass: flags.storageClass }
}

/** `pier config|convert --format kubernetes`: config's listing flags have no meaning for manifests. */
export async function kubernetesFormat(global: GlobalFlags, flags: KubernetesFlags & OutputFlags & { services?: boolean; volumes?: boolean; networks?: boolean; profiles?: boolean; images?: boolean; interpolate: boolean; normalize: boolean }, services: string[]): Promise<void> {
  const listing = (['services', 'volumes', 'networks', 'profiles', 'images'] as const).find((f) => flags[f])
  if (listing) throw new UsageError(`--${listing} does not apply with --format kubernetes`)
  if (!flags.interpolate || !flags.normalize) throw new UsageError(`--no-${flags.interpolate ? 'normalize' : 'interpolate'} does not apply with --format kubernetes`)
  await kubernetes(global, flags, services)
}

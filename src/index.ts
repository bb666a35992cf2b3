/**
 * pier as a library: the same pipeline the CLI runs. Tests and programs call
 * these; the CLI is a thin layer of flags over them.
 *
 *   import { up } from 'pier'
 *   await using env = await up({ file: 'compose.yaml', wait: true })
 *   const url = env.service('web').url(80)
 */
export * from './spec/index.js'
export { up, load, LoadedProject, StartedProject, ServiceHandle, type ProjectSource, type EngineChoice, type EnvironmentOptions } from './compose/library.js'
export { wait, WaitError, type WaitStrategy } from './compose/waits.js'
export * as compose from './compose/index.js'
export { openEngine, type EngineName } from './engine/index.js'
export type { Engine, Container, ContainerSpec, EngineEvent, Image, LogLine } from './engine/engine.js'
export type { Plan, Step } from './planner/plan.js'
export { PierError, UsageError, AbortError } from './errors.js'
export { EngineError } from './engine/errors.js'
export { PlanError } from './planner/errors.js'
export { convertToKubernetes, manifestsYaml, ConversionError, type Conversion, type KubernetesOptions, type Manifest } from './kubernetes/index.js'

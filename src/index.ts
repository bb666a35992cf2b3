/**
 * pier as a library: the same pipeline the CLI runs. Tests and programs call
 * these; the CLI is a thin layer of flags over them.
 */
export * from './spec/index.js'
export { PierError } from './errors.js'

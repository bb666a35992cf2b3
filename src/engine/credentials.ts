import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { EngineError } from './errors.js'

/**
 * Registry credentials where Docker keeps them: ~/.docker/config.json (or
 * $DOCKER_CONFIG/config.json). A registry named in `credHelpers`, else any
 * registry when `credsStore` is set, goes through the program
 * `docker-credential-<helper>` (its `get`, `store` and `erase` verbs, the
 * server on stdin, JSON on stdout); otherwise `auths.<server>.auth` holds
 * base64 `user:password`. Shared by both drivers (pulls and pushes) and by
 * `pier login`/`logout`, so what one writes the others read.
 */

export interface Credentials {
  username: string
  password: string
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>
  credsStore?: string
  credHelpers?: Record<string, string>
  [key: string]: unknown
}

/** Docker Hub's key in config.json, as the docker CLI writes it. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/'

export function configDir(): string {
  return process.env.DOCKER_CONFIG ?? join(homedir(), '.docker')
}

const configFile = () => join(configDir(), 'config.json')

function readConfig(): ConfigFile {
  let text: string
  try {
    text = readFileSync(configFile(), 'utf8')
  } catch {
    return {}
  }
  try {
    return JSON.parse(text) as ConfigFile
  } catch {
    throw new EngineError('invalid', `${configFile()} is not valid JSON: fix or remove it`)
  }
}

/** Written whole and renamed into place, readable by its owner alone (it holds passwords), other keys kept. */
function writeConfig(config: ConfigFile): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 })
  const temp = `${configFile()}.pier-${process.pid}.tmp`
  writeFileSync(temp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 })
  renameSync(temp, configFile())
}

/** The config.json key of a registry: Docker Hub's URL for docker.io, else the host[:port] itself. */
export function serverKey(registry: string): string {
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io', DOCKER_HUB_SERVER].includes(registry) ? DOCKER_HUB_SERVER : registry.replace(/^https?:\/\//, '').replace(/\/+$/, '')
}

/** The keys an entry for `registry` may be found under (the CLI and older tools wrote several spellings). */
function keysFor(registry: string): string[] {
  const key = serverKey(registry)
  return key === DOCKER_HUB_SERVER ? [key, 'docker.io', 'index.docker.io', 'registry-1.docker.io'] : [key, `https://${key}`, `http://${key}`]
}

function helperFor(config: ConfigFile, registry: string): string | undefined {
  for (const key of keysFor(registry)) if (config.credHelpers?.[key]) return config.credHelpers[key]
  return config.credsStore || undefined
}

function runHelper(helper: string, verb: 'get' | 'store' | 'erase', input: string): { ok: boolean; stdout: string } {
  const program = `docker-credential-${helper}`
  try {
    return { ok: true, stdout: execFileSync(program, [verb], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 }) }
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string }
    if (e.code === 'ENOENT') throw new EngineError('not-found', `the credential helper ${program} (credsStore/credHelpers in ${configFile()}) is not on PATH: install it or remove it from the file`)
    const said = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim()
    // The protocol's "not found" answer (exit 1, this text) is no error for get and erase.
    if (/credentials not found/i.test(said)) return { ok: false, stdout: '' }
    throw new EngineError('registry', `${program} ${verb} failed: ${said.split('\n')[0] || e.message}`)
  }
}

/** The stored credentials for `registry`, if any. */
export function credentialsFor(registry: string): Credentials | undefined {
  const config = readConfig()
  const helper = helperFor(config, registry)
  if (helper) {
    const { ok, stdout } = runHelper(helper, 'get', serverKey(registry))
    if (!ok) return undefined
    const answer = JSON.parse(stdout) as { Username?: string; Secret?: string }
    return answer.Username !== undefined && answer.Secret !== undefined ? { username: answer.Username, password: answer.Secret } : undefined
  }
  for (const key of keysFor(registry)) {
    const entry = config.auths?.[key]
    if (!entry) continue
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
      const cut = decoded.indexOf(':')
      if (cut > 0) return { username: decoded.slice(0, cut), password: decoded.slice(cut + 1) }
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password }
  }
  return undefined
}

/** Saves credentials as the docker CLI does: in the helper when one is configured (with an empty `auths` entry beside), else base64 in `auths`. */
export function storeCredentials(registry: string, credentials: Credentials): { helper?: string; file: string } {
  const config = readConfig()
  const key = serverKey(registry)
  const helper = helperFor(config, registry)
  config.auths ??= {}
  if (helper) {
    runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: credentials.username, Secret: credentials.password }))
    config.auths[key] = {}
  } else {
    config.auths[key] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') }
  }
  writeConfig(config)
  return { ...(helper ? { helper } : {}), file: configFile() }
}

/** Forgets the credentials of `registry`; false when there were none. */
export function eraseCredentials(registry: string): boolean {
  const config = readConfig()
  const helper = helperFor(config, registry)
  let found = false
  if (helper) found = runHelper(helper, 'erase', serverKey(registry)).ok
  for (const key of keysFor(registry)) {
    if (config.auths?.[key] === undefined) continue
    delete config.auths[key]
    found = true
  }
  if (found) writeConfig(config)
  return found
}

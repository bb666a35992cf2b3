import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pier, TempProject } from '../support/helpers.js'
import { busyboxImage, dockerArchive } from '../support/images.js'
import { TestRegistry } from '../support/registry.js'

/**
 * A fake credential helper speaking Docker's protocol (get/store/erase,
 * the server or a JSON document on stdin), keeping each server's
 * credentials in a file and logging each verb, so the test sees pier use it.
 */
const HELPER = `#!/bin/sh
dir="$PIER_TEST_CREDENTIALS"
input=$(cat)
echo "$1" >> "$dir/log"
case "$1" in
  store)
    server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
    printf '%s' "$input" > "$dir/$(printf '%s' "$server" | tr ':/' '__')" ;;
  get)
    file="$dir/$(printf '%s' "$input" | tr ':/' '__')"
    if [ -f "$file" ]; then cat "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase)
    file="$dir/$(printf '%s' "$input" | tr ':/' '__')"
    if [ -f "$file" ]; then rm "$file"; else echo "credentials not found in native keychain"; exit 1; fi ;;
esac
`

describe('pier login, logout and search against a registry with basic auth', function () {
  this.timeout(60_000)
  const registry = new TestRegistry({ alice: 's3cret' })
  let work: TempProject
  let root: string
  let dockerConfig: string
  let helperDir: string
  const env = () => ({ PIER_ROOT: root, DOCKER_CONFIG: dockerConfig, PATH: `${join(helperDir, 'bin')}:${process.env.PATH}`, PIER_TEST_CREDENTIALS: helperDir })
  const run = (args: string[], input?: string) => pier(args, { cwd: work.dir, env: env(), ...(input !== undefined ? { input } : {}) })
  const config = () => JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8'))
  const image = () => `${registry.host}/private/busybox:1`

  before(async () => {
    await registry.start()
  })
  after(() => registry.stop())
  beforeEach(async () => {
    work = new TempProject({})
    root = mkdtempSync(join(tmpdir(), 'pier-root-'))
    dockerConfig = mkdtempSync(join(tmpdir(), 'pier-docker-config-'))
    helperDir = mkdtempSync(join(tmpdir(), 'pier-credentials-'))
    mkdirSync(join(helperDir, 'bin'))
    writeFileSync(join(helperDir, 'bin', 'docker-credential-pier-test'), HELPER)
    chmodSync(join(helperDir, 'bin', 'docker-credential-pier-test'), 0o755)
    writeFileSync(work.path('bb.tar'), await dockerArchive([await busyboxImage([image()])]))
    assert.equal(run(['image', 'load', '-i', 'bb.tar']).status, 0)
  })
  afterEach(() => {
    work.cleanup()
    for (const dir of [root, dockerConfig, helperDir]) rmSync(dir, { recursive: true, force: true })
  })

  it('checks the password with the registry, saves it as Docker does (auths, base64), pushes with it, forgets it at logout', () => {
    const wrong = run(['login', registry.host, '-u', 'alice', '--password-stdin'], 'wrong\n')
    assert.equal(wrong.status, 1)
    assert.match(wrong.stderr, /^error: registry 127\.0\.0\.1:\d+ refused access \(HTTP 401[^\n]*\n$/)
    assert.equal(existsSync(join(dockerConfig, 'config.json')), false, 'nothing saved')

    const refused = run(['push', image()])
    assert.equal(refused.status, 1)

    const ok = run(['login', registry.host, '-u', 'alice', '--password-stdin'], 's3cret\n')
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal(ok.stdout, 'Login Succeeded\n')
    assert.match(ok.stderr, /WARNING! Your password will be stored unencrypted in .*config\.json\./)
    assert.deepEqual(config().auths, { [registry.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } })

    const pushed = run(['push', image()])
    assert.equal(pushed.status, 0, pushed.stderr)

    const found = run(['search', `${registry.host}/priv`])
    assert.equal(found.status, 0, found.stderr)
    assert.equal(found.stdout, `NAME\n${registry.host}/private/busybox\n`)
    assert.equal(run(['search', 'busy', '--registry', registry.host, '--format', 'json']).stdout, `{"Name":"${registry.host}/private/busybox"}\n`)
    assert.equal(run(['search', 'nothing-like-it', '--registry', registry.host]).stdout, 'NAME\n')

    assert.equal(run(['logout', registry.host]).stdout, `Removing login credentials for ${registry.host}\n`)
    assert.deepEqual(config().auths, {})
    assert.equal(run(['logout', registry.host]).stdout, `Not logged in to ${registry.host}\n`)
    assert.equal(run(['push', image()]).status, 1, 'refused again')
  })

  it('keeps the credentials in the credsStore helper (docker-credential-*), and a credHelpers entry wins', () => {
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'pier-test', experimental: 'kept' }))
    const ok = run(['login', registry.host, '-u', 'alice', '--password-stdin'], 's3cret')
    assert.equal(ok.status, 0, ok.stderr)
    assert.doesNotMatch(ok.stderr, /unencrypted/)
    assert.deepEqual(config(), { credsStore: 'pier-test', experimental: 'kept', auths: { [registry.host]: {} } })
    assert.deepEqual(JSON.parse(readFileSync(join(helperDir, registry.host.replace(':', '_')), 'utf8')), { ServerURL: registry.host, Username: 'alice', Secret: 's3cret' })
    assert.equal(run(['push', image()]).status, 0, 'the helper gave the credentials')
    assert.match(readFileSync(join(helperDir, 'log'), 'utf8'), /^store\n(get\n)+$/)
    assert.equal(run(['logout', registry.host]).status, 0)
    assert.equal(existsSync(join(helperDir, registry.host.replace(':', '_'))), false, 'erased from the helper')

    // A credHelpers entry for this registry, with a credsStore that does not exist: the entry is used.
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'no-such-helper', credHelpers: { [registry.host]: 'pier-test' } }))
    assert.equal(run(['login', registry.host, '-u', 'alice', '--password-stdin'], 's3cret').status, 0)
    assert.equal(run(['push', image()]).status, 0)
  })

  it('refuses bad input in one line, and says why search needs a registry', () => {
    assert.deepEqual(run(['login', registry.host, '--password-stdin'], 'x'), { status: 1, stdout: '', stderr: 'error: --password-stdin needs a user name: give -u USER\n' })
    const noPassword = run(['login', registry.host, '-u', 'alice'])
    assert.deepEqual([noPassword.status, noPassword.stderr], [1, 'error: login needs a password: give --password-stdin (or -p PASSWORD)\n'])
    const search = run(['search', 'busybox'])
    assert.equal(search.status, 1)
    assert.equal(search.stderr, "error: search needs a registry: give --registry HOST or HOST/busybox (Docker Hub's search service is not reachable from pier; it reads a registry's /v2/_catalog)\n")
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'no-such-helper' }))
    const missingHelper = run(['login', registry.host, '-u', 'alice', '--password-stdin'], 's3cret')
    assert.equal(missingHelper.status, 1)
    assert.match(missingHelper.stderr, /^error: the credential helper docker-credential-no-such-helper \(credsStore\/credHelpers in .*config\.json\) is not on PATH: install it or remove it from the file\n$/)
  })
})

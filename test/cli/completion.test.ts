import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { pier, pierBin, TempProject } from '../support/helpers.js'

describe('pier completion', () => {
  let work: TempProject
  beforeEach(() => {
    work = new TempProject({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n  worker:\n    image: busybox\n' })
  })
  afterEach(() => work.cleanup())

  /** What bash offers after `words`, with pier's script loaded (pier on PATH through a shim). */
  function complete(words: string[]): string[] {
    const script = pier(['completion', 'bash']).stdout
    const shim = `pier() { PIER_NO_CACHE=1 ${process.execPath} ${pierBin} "$@"; }`
    const line = `${shim}\n${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _pier; printf '%s\\n' "\${COMPREPLY[@]}"`
    return execFileSync('bash', ['-c', line], { cwd: work.dir, encoding: 'utf8' }).split('\n').filter(Boolean).sort()
  }

  it('completes commands, their flags and the project\'s services in bash', () => {
    assert.deepEqual(complete(['pier', 'lo']), ['login', 'logout', 'logs'])
    assert.ok(complete(['pier', 'logs', '--ta']).includes('--tail'))
    assert.deepEqual(complete(['pier', 'logs', 'w']), ['web', 'worker'])
    assert.deepEqual(complete(['pier', 'exec', 'wo']), ['worker'])
  })

  it('prints zsh and fish scripts, and refuses another shell', () => {
    assert.match(pier(['completion', 'zsh']).stdout, /^autoload -U \+X bashcompinit/)
    assert.match(pier(['completion', 'fish']).stdout, /complete -c pier -n __fish_use_subcommand -a logs/)
    const bad = pier(['completion', 'tcsh'])
    assert.equal(bad.status, 1)
    assert.equal(bad.stderr, 'error: unknown shell "tcsh": use bash, zsh or fish\n')
  })
})

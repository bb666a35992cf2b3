import assert from 'node:assert/strict'
import { parseDotenv } from '../../src/spec/dotenv.js'
import { SpecError } from '../../src/spec/errors.js'

describe('.env files', () => {
  const parse = (text: string, env: Record<string, string> = {}) => parseDotenv(text, '/p/.env', (k) => env[k])

  it('reads KEY=VAL lines, export prefixes, comments and blank lines', () => {
    assert.deepEqual(parse('# comment\n\nA=1\nexport B=two\n  C = spaced  \nD=\n'), { A: '1', B: 'two', C: 'spaced', D: '' })
  })

  it('starts a comment at " #" in unquoted values only', () => {
    assert.deepEqual(parse('A=x#y\nB=x #y\nC="x #y"\nD=\'x #y\' # c\n'), { A: 'x#y', B: 'x', C: 'x #y', D: 'x #y' })
  })

  it('keeps single quotes literal and expands double quotes', () => {
    assert.deepEqual(parse("A='$HOME\\n'\nB=\"a\\tb\\n\\\"q\\\" \\\\ \\$x\"\n", { HOME: '/root' }), { A: '$HOME\\n', B: 'a\tb\n"q" \\ $x' })
  })

  it('allows multi-line double-quoted values', () => {
    assert.deepEqual(parse('A="line1\nline2"\nB=after\n'), { A: 'line1\nline2', B: 'after' })
  })

  it('interpolates with the environment first, then earlier keys', () => {
    assert.deepEqual(parse('A=one\nB=${A}-$C\nC=x\nD=${A:-no}\n', { C: 'env' }), { A: 'one', B: 'one-env', C: 'x', D: 'one' })
  })

  it('takes a bare KEY from the environment, or leaves it out', () => {
    assert.deepEqual(parse('HOME\nNOPE\n', { HOME: '/root' }), { HOME: '/root' })
  })

  it('reports a malformed line with its file and line number', () => {
    assert.throws(() => parse('A=1\n=oops\n'), (err: unknown) => err instanceof SpecError && /\.env:2:1: invalid line "=oops"/.test(err.message))
    assert.throws(() => parse('A="open\n'), /:1:1: unterminated double-quoted value for A/)
  })
})

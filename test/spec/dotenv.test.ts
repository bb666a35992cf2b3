import assert from 'node:assert/strict'
import { parseDotenv } from '../../src/spec/dotenv.js'
import { SpecError } from '../../src/spec/errors.js'
import { load } from '../support/helpers.js'

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

  it('reads escapes in double quotes as Compose does, keeping unknown ones as written', () => {
    assert.deepEqual(parse('A="\\a\\b\\f\\v"\nB="\\0123\\0101"\nC="\\q\\c\\x41"\nD="\\\\ and \\""\n'), {
      A: '\x07\b\f\v',
      B: 'SA',
      C: '\\q\\c\\x41',
      D: '\\ and "',
    })
  })

  it("unescapes \\' inside single quotes and keeps other backslashes", () => {
    assert.deepEqual(parse("A='it\\'s'\nB='a\\nb'\n"), { A: "it's", B: 'a\\nb' })
  })

  it('skips a UTF-8 byte order mark and reads KEY: value and export<TAB>', () => {
    assert.deepEqual(parse('\ufeffA=1\nB: two\nexport\tC=3\nD:\t"four"\n'), { A: '1', B: 'two', C: '3', D: 'four' })
  })

  it('starts a comment only at a space before #, trims CRLF', () => {
    assert.deepEqual(parse('A=x\t#y\r\nB=z #c\r\n'), { A: 'x\t#y', B: 'z' })
  })

  it('lets a key defined earlier in the same file win over an earlier file (several --env-file)', async () => {
    const { project } = await load(
      {
        'compose.yaml': 'services:\n  web:\n    image: a\n    environment: ["B=${B}"]\n',
        'one.env': 'A=from-one\n',
        'two.env': 'A=from-two\nB=${A}\n',
      },
      { envFiles: ['one.env', 'two.env'] },
    )
    assert.equal(project.services.web.environment.B, 'from-two')
  })

  it("resolves ${VAR} in an env_file against the project's variables, then the service's environment", async () => {
    const { project } = await load(
      {
        'compose.yaml': 'services:\n  web:\n    image: a\n    env_file: [web.env]\n    environment: {FOO: svc-foo, BAR: svc-bar}\n',
        'web.env': 'I_FOO=${FOO}\nI_BAR=${BAR}\nBAR=file-bar\nZOT=zot\n',
        '.env': 'FOO=project-foo\n',
      },
    )
    assert.deepEqual(project.services.web.environment, { I_FOO: 'project-foo', I_BAR: 'svc-bar', BAR: 'svc-bar', ZOT: 'zot', FOO: 'svc-foo' })
  })
})

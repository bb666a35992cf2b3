import assert from 'node:assert/strict'
import { parseYaml } from '../../src/spec/parse.js'
import { projectDocument, toYaml } from '../../src/spec/serialize.js'
import { load, service } from '../support/helpers.js'

/**
 * Plain scalars that begin with a digit or a sign resolve as Docker Compose's
 * parser (gopkg.in/yaml.v3) resolves them, not as the YAML 1.2 core schema
 * does. Each expected value is what yaml.v3 decoded the same scalar to.
 */
describe('numbers as Compose reads them', () => {
  const scalar = (text: string) => parseYaml(`k: ${text}\n`, 'compose.yaml').data.k

  const cases: [string, unknown][] = [
    ['0440', 288], // a leading zero is octal (the core schema says 440)
    ['0o440', 288],
    ['0O17', 15],
    ['+0440', 288],
    ['-0440', -288],
    ['0x1F', 31],
    ['+0x1F', 31],
    ['0b101', 5],
    ['-0o17', -15],
    ['1_000', 1000], // underscores are dropped (the core schema keeps a string)
    ['0_x1F', 31],
    ['1__0', 10],
    ['017_7', 127],
    ['08', 8], // not octal: a float, 8
    ['09.5', 9.5],
    ['1_000.5', 1000.5],
    ['0', 0],
    ['00', 0],
    ['-0', 0],
    ['007', 7],
    ['1e3', 1000],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['"0440"', '0440'], // quoted: a string
    ["'0555'", '0555'],
    ['_1', '_1'], // an underscore first: a string
    ['0x', '0x'],
    ['0o8', '0o8'],
    ['0b2', '0b2'],
    ['0xG', '0xG'],
    ['1:2', '1:2'],
    ['yes', 'yes'],
    ['True', true],
  ]
  for (const [text, expected] of cases) {
    it(`reads ${text} as ${JSON.stringify(expected)}`, () => {
      assert.equal(scalar(text), expected)
    })
  }

  it('still refuses a key that reads as a number, and still says where', () => {
    assert.throws(() => parseYaml('services:\n  web:\n    0440: x\n', 'compose.yaml'), (err: Error & { loc?: { line: number; col: number } }) => {
      assert.match(err.message, /the key 288 is not a string/)
      assert.deepEqual([err.loc?.line, err.loc?.col], [3, 5])
      return true
    })
  })

  it('turns 0555 in environment and labels into the string of the number, as Compose does', async () => {
    const web = await service('services:\n  web:\n    image: x\n    environment:\n      A: 0555\n      B: "0555"\n      C: 1_000\n    labels:\n      l: 0x10\n')
    assert.deepEqual(web.environment, { A: '365', B: '0555', C: '1000' })
    assert.deepEqual(web.labels, { l: '16' })
  })

  it('reads mode: 0440 and mode: "0440" as the same octal mode', async () => {
    const { project } = await load({
      'compose.yaml': `services:
  web:
    image: x
    secrets:
      - {source: s, mode: 0440}
      - {source: t, mode: "0440"}
      - {source: u, mode: 288}
    configs:
      - {source: c, mode: 0o755}
secrets:
  s: {file: ./s}
  t: {file: ./s}
  u: {file: ./s}
configs:
  c: {file: ./s}
`,
      s: 'x',
    })
    const web = project.services.web
    assert.deepEqual(web.secrets!.map((s) => s.mode), [0o440, 0o440, 0o440])
    assert.equal(web.configs![0].mode, 0o755)
  })

  it('prints a secret or config mode as Compose does: a string of octal digits after a 0', async () => {
    const { project } = await load({
      'compose.yaml': 'services:\n  web:\n    image: x\n    secrets: [{source: s, mode: 0440}, {source: t, mode: 0}]\n    configs: [{source: c, mode: 0o755}]\nsecrets:\n  s: {file: ./s}\n  t: {file: ./s}\nconfigs:\n  c: {file: ./s}\n',
      s: 'x',
    })
    const web = projectDocument(project).services as Record<string, Record<string, Record<string, unknown>[]>>
    assert.deepEqual(web.web.secrets.map((s) => s.mode), ['0440', '00'])
    assert.equal(web.web.configs[0].mode, '0755')
    assert.match(await toYaml(projectDocument(project)), /mode: "0440"/)
  })
})

import assert from 'node:assert/strict'
import { substitute, TemplateError } from '../../src/spec/template.js'
import { load, loadFails, service } from '../support/helpers.js'

describe('interpolation', () => {
  const env: Record<string, string> = { SET: 'value', EMPTY: '', PORT: '8080', N: '3', FLAG: 'true' }
  const sub = (text: string) => substitute(text, (k) => env[k])

  it('substitutes $VAR and ${VAR}', () => {
    assert.equal(sub('a $SET b ${SET}c'), 'a value b valuec')
  })

  it('handles every default, error and alternative form', () => {
    assert.equal(sub('${UNSET:-d}|${EMPTY:-d}|${SET:-d}'), 'd|d|value')
    assert.equal(sub('${UNSET-d}|${EMPTY-d}|${SET-d}'), 'd||value')
    assert.equal(sub('${UNSET:+a}|${EMPTY:+a}|${SET:+a}'), '||a')
    assert.equal(sub('${UNSET+a}|${EMPTY+a}|${SET+a}'), '|a|a')
    assert.equal(sub('${SET:?boom}${SET?boom}${EMPTY?boom}'), 'valuevalue')
    assert.throws(() => sub('${EMPTY:?must be set}'), /required variable EMPTY is missing a value: must be set/)
    assert.throws(() => sub('${UNSET?}'), /required variable UNSET is missing a value$/)
  })

  it('nests defaults', () => {
    assert.equal(sub('${UNSET:-${ALSO_UNSET:-deep}}'), 'deep')
    assert.equal(sub('${UNSET:-$SET/x}'), 'value/x')
    assert.equal(sub('${UNSET:-{literal}}'), '{literal}')
  })

  it('keeps $$ as a literal $ and a lone $ as it is', () => {
    assert.equal(sub('$$SET costs $5 and $'), '$SET costs $5 and $')
    assert.equal(sub('${UNSET:-$$x}'), '$x')
  })

  it('rejects shell forms Compose does not support', () => {
    assert.throws(() => sub('${SET/a/b}'), TemplateError)
    assert.throws(() => sub('${}'), TemplateError)
    assert.throws(() => sub('${SET'), /no closing/)
  })

  it('interpolates values, never keys, and casts afterwards', async () => {
    const web = await service(
      `services:
  web:
    image: "img:\${TAG:-latest}"
    ports: ["\${PORT}:80"]
    scale: \${N}
    tty: \${FLAG}
    environment:
      \${KEY}: kept
    labels:
      - "\${SET}=v"
`,
      'web',
      { environment: env },
    )
    assert.equal(web.image, 'img:latest')
    assert.equal(web.ports[0].published, '8080')
    assert.equal(web.scale, 3)
    assert.equal(web.tty, true)
    assert.deepEqual(web.environment, { '${KEY}': 'kept' })
    assert.deepEqual(web.labels, { value: 'v' })
  })

  it('warns once per unset variable and uses an empty string', async () => {
    const { project, warnings } = await load({
      'compose.yaml': 'services:\n  web:\n    image: "x$MISSING"\n    hostname: "$MISSING"\n',
    })
    assert.equal(project.services.web.image, 'x')
    assert.deepEqual(warnings, ['The "MISSING" variable is not set. Defaulting to a blank string.'])
  })

  it('stops at a ${VAR:?} error with its file, line and field', async () => {
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: "${IMAGE:?set IMAGE first}"\n' }, [
      /compose\.yaml:3:5: services\.web\.image: required variable IMAGE is missing a value: set IMAGE first$/,
    ])
  })

  it('sees .env, and the process environment wins over it', async () => {
    const { project } = await load(
      { 'compose.yaml': 'services:\n  web:\n    image: "$A-$B"\n', '.env': 'A=from-dotenv\nB=from-dotenv\n' },
      { environment: { B: 'from-process' } },
    )
    assert.equal(project.services.web.image, 'from-dotenv-from-process')
  })

  it('ends a default holding braces at its own brace, as Compose does', () => {
    const json = (text: string, vars: Record<string, string>) => substitute(text, (k) => vars[k])
    assert.equal(json('ok ${JSON:-{"a":1}}', {}), 'ok {"a":1}')
    assert.equal(json('ok ${JSON:-{"a":1}}', { JSON: '{"b":2}' }), 'ok {"b":2}')
    assert.equal(json('${X-{a}{b}}!', {}), '{a}{b}!')
  })

  it('refuses defaults nested hundreds of levels deep with one line', () => {
    const deep = '${A:-'.repeat(5000) + 'x' + '}'.repeat(5000)
    assert.throws(() => sub(deep), (err: unknown) => err instanceof TemplateError && /nested more than 200 levels/.test(err.message))
  })

  describe('COMPOSE_PROJECT_NAME', () => {
    const yaml = 'services:\n  web:\n    image: a\n    environment: ["P=${COMPOSE_PROJECT_NAME}"]\n'
    it('is the name given with -p', async () => {
      const { project } = await load({ 'compose.yaml': yaml }, { projectName: 'given' })
      assert.equal(project.services.web.environment.P, 'given')
    })
    it('is the name set in the environment or .env', async () => {
      const { project } = await load({ 'compose.yaml': yaml, '.env': 'COMPOSE_PROJECT_NAME=dotenv\n' })
      assert.equal(project.services.web.environment.P, 'dotenv')
    })
    it("is the last file's name:, itself interpolated", async () => {
      const { project } = await load(
        { 'compose.yaml': 'name: first\n' + yaml, 'compose.override.yaml': 'name: ${STAGE}-app\n', '.env': 'STAGE=prod\n' },
      )
      assert.equal(project.name, 'prod-app')
      assert.equal(project.services.web.environment.P, 'prod-app')
    })
    it("is the directory's name otherwise", async () => {
      const { project } = await load({ 'compose.yaml': yaml })
      assert.equal(project.services.web.environment.P, 'proj')
    })
  })
})

import { loadFails } from '../support/helpers.js'

/**
 * Bad input: each mistake gives one line naming the file, line and column,
 * the field path, what was expected and, for a misspelled key, a suggestion.
 */
describe('errors in compose files', () => {
  const file = (yaml: string) => ({ 'compose.yaml': yaml })

  it('invalid YAML', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n   bad: indent\n'), [/compose\.yaml:4:1: invalid YAML: /])
    await loadFails(file('services:\n  web:\n    image: x\n    image: y\n'), [/compose\.yaml:4:5: services\.web\.image: invalid YAML: duplicate key "image"/])
    await loadFails(file('services: [a\n'), [/compose\.yaml:\d+:\d+: invalid YAML/])
  })

  it('a file that is empty or not a mapping', async () => {
    await loadFails(file(''), [/empty compose file/])
    await loadFails(file('- a\n- b\n'), [/compose\.yaml:1:1: the top level of a compose file must be a mapping/])
  })

  it('an unknown key, with the key that was probably meant', async () => {
    await loadFails(file('services:\n  web:\n    imgae: x\n'), [/compose\.yaml:3:5: services\.web\.imgae: unknown key "imgae": did you mean "image"\?/])
    await loadFails(file('servics:\n  web:\n    image: x\n'), [/compose\.yaml:1:1: servics: unknown key "servics": did you mean "services"\?/])
    await loadFails(file('services:\n  web:\n    image: x\n    build:\n      context: .\n      dockerfil: x\n'), [
      /compose\.yaml:6:7: services\.web\.build\.dockerfil: unknown key "dockerfil": did you mean "dockerfile"\?/,
    ])
    await loadFails(file('services:\n  web:\n    image: x\n    frobnicate: 1\n'), [/unknown key "frobnicate"$/])
  })

  it('a wrong type, naming what was expected', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n    ports: 80\n'), [/compose\.yaml:4:5: services\.web\.ports: expected a list, got the number 80/])
    await loadFails(file('services:\n  web:\n    image: x\n    environment: 5\n'), [/services\.web\.environment: expected a mapping or a list, got the number 5/])
    await loadFails(file('services:\n  web:\n    image: x\n    ports:\n      - "80"\n      - [1]\n'), [/compose\.yaml:6:9: services\.web\.ports\[1\]: expected a number, a string or a mapping, got a list/])
  })

  it('a value outside the allowed set, and a bad name', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_happy\n'), [
      /compose\.yaml:6:9: services\.web\.depends_on\.db\.condition: invalid value "service_happy": expected one of "service_started"/,
    ])
    await loadFails(file('services:\n  "my web":\n    image: x\n'), [/services\.my web: invalid name "my web": use only letters, digits/])
  })

  it('a missing required key', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n    depends_on:\n      db: {required: true}\n'), [/services\.web\.depends_on\.db: missing required key "condition"/])
  })

  it('a file that does not exist', async () => {
    await loadFails(file('services: {}\n'), [/nope\.yaml: no such file; check the path given with -f or COMPOSE_FILE/], { files: ['nope.yaml'] })
  })

  it('an --env-file that does not exist', async () => {
    await loadFails(file('services: {}\n'), [/env file .*missing\.env not found: check the path given with --env-file/], { envFiles: ['missing.env'] })
  })

  it('points into the override file when the mistake is there', async () => {
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n', 'compose.override.yaml': 'services:\n  web:\n    tty: 3\n' }, [
      /compose\.override\.yaml:3:5: services\.web\.tty: expected a boolean or a string, got the number 3/,
    ])
  })

  it('refuses an alias bomb instead of exhausting memory', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`)
    await loadFails(file(`x-bomb:\n${lines.map((l) => `  ${l}`).join('\n')}\nservices: {}\n`), [/aliases expand to too large a document/])
  })
})

import assert from 'node:assert/strict'
import { load, loadFails } from '../support/helpers.js'

/** What `config` must refuse because `up` would fail on it later (compose-go's loader checks). */
describe('validation config does', () => {
  const file = (yaml: string) => ({ 'compose.yaml': yaml })

  it('refuses a depends_on cycle, naming the chain', async () => {
    await loadFails(file('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n'), [
      /services\.c\.depends_on: dependency cycle: a -> b -> c -> a/,
    ])
  })

  it('refuses a service that depends on itself', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n    depends_on: [web]\n'), [/compose\.yaml:4:5: services\.web\.depends_on: dependency cycle: web -> web/])
  })

  it('refuses a tmpfs and a bind on the same target', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n    tmpfs: [/data]\n    volumes: ["./d:/data"]\n'), [
      /services\.web\.volumes\[0\]: target \/data is already mounted by services\.web\.tmpfs\[0\]/,
    ])
  })

  it('refuses a develop.watch sync rule without a target', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n    develop:\n      watch:\n        - {path: ./src, action: sync}\n'), [
      /services\.web\.develop\.watch\[0\]: a "sync" watch rule needs a target/,
    ])
    await load(file('services:\n  web:\n    build: .\n    develop:\n      watch:\n        - {path: ./src, action: rebuild}\n'))
  })

  it('refuses an environment name with a trailing space', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n    environment:\n      "FOO ": bar\n'), [/services\.web\.environment\.FOO : invalid environment variable name "FOO "/])
  })

  it('refuses an external volume that sets what only creation uses', async () => {
    await loadFails(file('services:\n  web: {image: x}\nvolumes:\n  data:\n    external: true\n    driver: local\n'), [/volumes\.data\.driver: volume "data" is external, so "driver" cannot be set/])
    await loadFails(file('services:\n  web: {image: x}\nvolumes:\n  data:\n    external: true\n    labels: {a: b}\n'), [/volumes\.data\.labels: volume "data" is external/])
    await loadFails(file('services:\n  web: {image: x}\nvolumes:\n  data:\n    name: one\n    external: {name: two}\n'), [/volumes\.data: volume "data" sets both name and external\.name/])
    const { project } = await load(file('services:\n  web: {image: x}\nvolumes:\n  data:\n    external: true\n    name: real\n'))
    assert.deepEqual(project.volumes.data, { external: true, name: 'real' })
  })

  it('refuses a service key that YAML reads as a number', async () => {
    await loadFails(file('services:\n  1:\n    image: x\n'), [/compose\.yaml:2:3: services: the key 1 is not a string: quote it \("1"\)/])
    const { project } = await load(file('services:\n  "1":\n    image: x\n'))
    assert.deepEqual(Object.keys(project.services), ['1'])
  })

  it('names a duplicate key', async () => {
    await loadFails(file('services:\n  web:\n    image: x\n  web:\n    image: y\n'), [/compose\.yaml:4:3: services\.web: invalid YAML: duplicate key "web"/])
  })
})

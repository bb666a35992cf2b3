import assert from 'node:assert/strict'
import { attach } from '../../src/compose/attach.js'
import type { Container, Engine, LogLine, LogOptions } from '../../src/engine/engine.js'
import { LABEL } from '../../src/labels.js'
import { load } from '../support/helpers.js'

/**
 * Attached output's reading of a container's log, against a fake engine
 * (the Attacher is what is tested): lines stamped with the same time are
 * all shown, and a stream opened again after a restart shows nothing twice.
 */
describe('attached output: lines that share a timestamp', () => {
  const container = (state: Container['state']): Container =>
    ({
      id: 'c1',
      name: 'p-web-1',
      image: 'busybox',
      state,
      labels: { [LABEL.project]: 'p', [LABEL.service]: 'web', [LABEL.number]: '1', [LABEL.oneoff]: 'False' },
      mounts: [],
      createdAt: 'T0',
      startedAt: 'T0',
      ...(state === 'running' ? {} : { exitCode: 0, finishedAt: 'T9' }),
      ports: [],
      exposedPorts: [],
      addresses: {},
      command: [],
    }) as unknown as Container

  /** An engine whose log holds `passes[i]` on the i-th opening (each read from `since` on, as engines do), and whose container is in `states[i]` after it. */
  function engine(passes: LogLine[][], states: Container['state'][]): { engine: Engine; sinces: (string | undefined)[] } {
    let opened = 0
    const sinces: (string | undefined)[] = []
    const fake = {
      listContainers: async () => [container('running')],
      inspectContainer: async () => container(states[Math.max(0, opened - 1)] ?? 'exited'),
      logs: (_id: string, options: LogOptions = {}) => {
        sinces.push(options.since)
        const lines = passes[opened++] ?? []
        return (async function* () {
          yield* lines.filter((l) => !options.since || l.time >= options.since)
        })()
      },
    }
    return { engine: fake as unknown as Engine, sinces }
  }

  const line = (time: string, stream: 'stdout' | 'stderr', text: string): LogLine => ({ time, stream, text })

  it('shows a stdout and a stderr line written in the same millisecond', async () => {
    const { project } = await load({ 'compose.yaml': 'name: p\nservices:\n  web:\n    image: busybox\n' })
    const { engine: fake } = engine([[line('T1', 'stdout', 'one'), line('T1', 'stderr', 'two'), line('T2', 'stdout', 'three')]], ['exited'])
    const shown: string[] = []
    await attach({ engine: fake }, project, { services: ['web'] }, ({ line }) => shown.push(line.text))
    assert.deepEqual(shown, ['one', 'two', 'three'])
  })

  it('after a restart, reads on from the last line shown without showing it again', async () => {
    const { project } = await load({ 'compose.yaml': 'name: p\nservices:\n  web:\n    image: busybox\n    restart: always\n' })
    const first = [line('T1', 'stdout', 'a'), line('T1', 'stdout', 'a')]
    const { engine: fake, sinces } = engine([first, [...first, line('T1', 'stderr', 'b'), line('T2', 'stdout', 'c')]], ['restarting', 'exited'])
    const shown: string[] = []
    await attach({ engine: fake }, project, { services: ['web'] }, ({ line }) => shown.push(line.text))
    assert.deepEqual(shown, ['a', 'a', 'b', 'c'])
    assert.deepEqual(sinces, [undefined, 'T1'])
  })
})

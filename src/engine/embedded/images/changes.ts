import { EngineError } from '../../errors.js'
import { applyConfigStep, envOf, workdirOf, type Config } from '../build/config.js'
import { parseDockerfile } from '../build/dockerfile.js'
import { expand } from '../build/words.js'

/** The instructions `docker commit -c` and `docker import -c` accept, as Docker's own list. */
const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL', 'HEALTHCHECK'])

/**
 * Applies `-c/--change` Dockerfile instructions to an image's run
 * configuration, with the builder's own parser and rules (variables from
 * the image's ENV, shell form through /bin/sh -c), so `-c 'CMD …'` means
 * what it means in a Dockerfile. Returns a new config; `config` is untouched.
 */
export function applyChanges(config: Config, changes: string[]): Config {
  const out = structuredClone(config)
  if (!changes.length) return out
  for (const change of changes) {
    const keyword = change.trim().split(/\s+/)[0]?.toUpperCase() ?? ''
    if (!ALLOWED.has(keyword)) throw new EngineError('invalid', `--change "${change}": ${keyword || 'an empty line'} cannot change an image here; use ${[...ALLOWED].join(', ')}`)
  }
  const { stages } = parseDockerfile(`FROM scratch\n${changes.join('\n')}\n`)
  const state = { config: out, args: {}, shell: ['/bin/sh', '-c'], cmdFromBase: !!out.Cmd }
  for (const i of stages[0].steps) {
    const word = (t: string) => expand(t, envOf(state.config))
    if (i.keyword === 'WORKDIR') state.config.WorkingDir = workdirOf(state.config, word, i)
    else applyConfigStep(state, i, word, {}, {})
  }
  return state.config
}

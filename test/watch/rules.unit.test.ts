import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Service, WatchRule } from '../../src/spec/project.js'
import { watchedRules } from '../../src/compose/watch.js'
import { DockerIgnore } from '../../src/engine/dockerignore.js'
import { compileRule, containerPath, ruleMatches, ruleProblem, skipDirectory } from '../../src/watch/rules.js'
import { diff, record } from '../../src/watch/sync.js'
import { load } from '../support/helpers.js'

/** The pure parts of watch: .dockerignore matching, rule selection, the sync diff. No root, no containers. */
describe('watch rules (unit)', () => {
  it('matches .dockerignore patterns: *, **, ?, classes, directories matching what is under them, ! exceptions, last match wins', () => {
    const p = new DockerIgnore(['# comment', 'node_modules', '*.log', '!keep.log', 'build/**/*.o', 'tmp?', '/abs/', '[ab].txt', '**/cache'])
    for (const yes of ['node_modules', 'node_modules/x/y.js', 'x.log', 'build/a/b/c.o', 'build/c.o', 'tmp1', 'abs/file', 'a.txt', 'deep/down/cache/f']) assert.ok(p.ignored(yes), yes)
    for (const no of ['keep.log', 'src/x.log', 'tmp12', 'c.txt', 'src/node_modules', 'build/c.c']) assert.ok(!p.ignored(no), no)
    assert.ok(p.ignoresWholeDir('node_modules') === false, 'an exception somewhere means a directory may not be skipped')
    assert.ok(new DockerIgnore(['node_modules']).ignoresWholeDir('node_modules'))
  })

  const dir = mkdtempSync(join(tmpdir(), 'pier-watch-unit-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const service = (rules: WatchRule[], build?: Service['build']): Service => ({ name: 'web', develop: { watch: rules }, ...(build ? { build } : {}) }) as unknown as Service

  it('applies the build context .dockerignore to rules under the context, re-rooted at the rule path, then the rule ignores; include selects files', () => {
    mkdirSync(join(dir, 'ctx/src'), { recursive: true })
    writeFileSync(join(dir, 'ctx/.dockerignore'), 'src/generated\n**/*.tmp\nREADME.md\n')
    const rule = compileRule(service([{ action: 'sync', path: join(dir, 'ctx/src'), target: '/app', ignore: ['secret'], include: ['*.ts', 'lib/**'] }], { context: join(dir, 'ctx') }), 0)
    const at = (rel: string, isDir = false) => ruleMatches(rule, join(dir, 'ctx/src', rel), isDir)
    assert.ok(at('main.ts'))
    assert.ok(at('lib/a.js'))
    assert.ok(!at('main.js'), 'not included')
    assert.ok(!at('generated/x.ts'), 'context pattern re-rooted')
    assert.ok(!at('a.tmp'))
    assert.ok(!at('secret'))
    assert.ok(at('sub', true), 'a directory is kept so what is under it can be included')
    assert.ok(!at('.git/HEAD') && !at('.x.ts.swp') && !at('x.ts~') && !at('4913'), 'implicit ignores')
    assert.ok(!ruleMatches(rule, join(dir, 'ctx/other.ts')), 'outside the rule path')
  })

  it('skips a directory at the watcher only when every rule covering it ignores all of it', () => {
    const a = compileRule(service([{ action: 'sync', path: dir, target: '/a', ignore: ['node_modules'] }]), 0)
    const b = compileRule(service([{ action: 'sync', path: join(dir, 'x'), target: '/b' }]), 0)
    assert.ok(skipDirectory([a], join(dir, 'node_modules')))
    assert.ok(skipDirectory([a], join(dir, '.git')))
    assert.ok(!skipDirectory([a], join(dir, 'src')))
    assert.ok(!skipDirectory([a, b], join(dir, 'x')), 'b watches x')
  })

  it('maps a host path to target/<rel>, the rule path itself to the target', () => {
    const rule: WatchRule = { action: 'sync', path: '/host/src', target: '/app' }
    assert.equal(containerPath(rule, '/host/src/a/b.txt'), '/app/a/b.txt')
    assert.equal(containerPath(rule, '/host/src'), '/app')
    assert.equal(containerPath(rule, '/host/srcx/a'), undefined)
  })

  it('refuses, in one line, a missing path, a sync without target, a relative target and one that leaves the root', () => {
    const exists = (p: string) => p !== '/missing'
    assert.match(ruleProblem('web', 0, { action: 'sync', path: '/missing', target: '/app' }, exists)!, /service "web" develop.watch\[0\]: path \/missing does not exist/)
    assert.match(ruleProblem('web', 1, { action: 'sync', path: '/src' }, exists)!, /develop.watch\[1\]: action sync needs a target/)
    assert.match(ruleProblem('web', 0, { action: 'sync+restart', path: '/src', target: 'app' }, exists)!, /must be an absolute path/)
    assert.match(ruleProblem('web', 0, { action: 'sync', path: '/src', target: '/app/../../etc' }, exists)!, /leaves the container's root/)
    assert.match(ruleProblem('web', 0, { action: 'sync+exec', path: '/src', target: '/app' }, exists)!, /needs exec.command/)
    assert.equal(ruleProblem('web', 0, { action: 'rebuild', path: '/src' }, exists), undefined)
  })

  it('says which services can be watched', async () => {
    const { project } = await load({ 'compose.yaml': 'services:\n  a: { image: busybox }\n  b: { image: busybox }\n' })
    assert.throws(() => watchedRules(project), /none of the services of project .* has develop.watch rules/)
    assert.throws(() => watchedRules(project, ['a']), /service "a" has no develop.watch rules/)
  })
})

describe('watch sync diff (unit)', () => {
  it('sends what differs, deletes what the container holds and the host lost (a directory covering its content), sends nothing unchanged', () => {
    const known = new Map([
      ['/app/a', 'f:644:1'],
      ['/app/b', 'f:644:2'],
      ['/app/d', 'd:755'],
      ['/app/d/x', 'f:644:3'],
    ])
    const changes = diff(
      [
        { host: '/h/a', container: '/app/a', signature: 'f:644:1' },
        { host: '/h/b', container: '/app/b', signature: 'f:755:2' },
        { host: '/h/c', container: '/app/c', signature: 'l:a' },
        { host: '/h/d', container: '/app/d' },
        { host: '/h/d/x', container: '/app/d/x' },
        { host: '/h/e', container: '/app/e' },
      ],
      known,
    )
    assert.deepEqual(changes.send.map((e) => e.container), ['/app/b', '/app/c'])
    assert.deepEqual(changes.remove, ['/app/d'])
    record(known, changes)
    assert.deepEqual([...known.keys()].sort(), ['/app/a', '/app/b', '/app/c'])
    assert.equal(known.get('/app/b'), 'f:755:2')
  })
})

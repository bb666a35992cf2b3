import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { EngineProject } from '../support/engine-project.js'

/**
 * commit, export, image import, history and prune on the embedded engine,
 * through the CLI, on a real container: what a container wrote comes back
 * in the committed image, in the exported tar, and in an image imported
 * from that tar.
 */
describe('pier commit, export, image import, history and prune', function () {
  this.timeout(90_000)
  let project: EngineProject
  const name = `pier-imgcmd-${process.pid}`
  const run = (args: string[], input?: string) => project.run(args, input)

  before(async () => {
    project = await EngineProject.create({
      'compose.yaml': `name: ${name}
services:
  app:
    image: busybox
    init: true
    command: ["sh", "-c", "echo made here > /made && rm /bin/ls && exec sleep 600"]
  committed:
    image: snap:1
    profiles: [later]
  imported:
    image: imported:1
    profiles: [later]
`,
    })
    const up = run(['up', '-d', '--wait', 'app'])
    assert.equal(up.status, 0, up.stderr)
    await new Promise((r) => setTimeout(r, 300))
  })
  after(() => project.dispose(['down', '-t', '0', '--profile', '*']))

  it("commit: the container's changes (a new file, a deletion) on its image, -c changes, -m, -a; the image runs", () => {
    const committed = run(['commit', '-c', 'ENV GREETING=hi', '-c', 'CMD ["sh", "-c", "cat /made; echo $GREETING; test -e /bin/ls || echo no-ls"]', '-m', 'a snapshot', '-a', 'Pier Tests', 'app', 'snap:1'])
    assert.equal(committed.status, 0, committed.stderr)
    assert.match(committed.stdout, /^sha256:[a-f0-9]{64}\n$/)
    const out = run(['--profile', 'later', 'run', '--rm', '-T', 'committed'])
    assert.equal(out.stderr.includes('error'), false, out.stderr)
    assert.equal(out.stdout, 'made here\nhi\nno-ls\n')
    const state = run(['ps', '--format', 'json', 'app'])
    assert.match(state.stdout, /"State":"running"/, 'unpaused after the commit')

    const history = run(['image', 'history', 'snap:1'])
    assert.equal(history.status, 0, history.stderr)
    const lines = history.stdout.trimEnd().split('\n')
    assert.match(lines[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/)
    assert.match(lines[1], /^[a-f0-9]{12}\s+(Less than a second|\d+ seconds?) ago\s+\d+(\.\d)?[kM]?B\s+a snapshot$/)
    assert.match(lines[2], /^<missing>\s/)
    const full = run(['image', 'history', '--no-trunc', '--format', 'json', 'snap:1']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    assert.equal(full[0].CreatedBy, '', 'as dockerd writes a commit')
    assert.match(full[0].ID, /^sha256:[a-f0-9]{64}$/)
    assert.deepEqual(full[0].Tags, ['snap:1'])
    assert.equal(run(['image', 'history', '-q', 'snap:1']).stdout.split('\n')[0].length, 12)
  })

  it('export writes the whole filesystem; image import makes a one-layer image of it, with -c and -m', () => {
    const exported = run(['export', 'app', '-o', 'fs.tar'])
    assert.equal(exported.status, 0, exported.stderr)
    const listing = execFileSync('tar', ['-tf', project.work.path('fs.tar')], { encoding: 'utf8' }).split('\n')
    assert.ok(listing.includes('made'), 'the file the container wrote')
    assert.ok(listing.includes('bin/busybox'), "the image's files")
    assert.ok(!listing.includes('bin/ls'), 'not what it deleted')
    assert.deepEqual(readdirSync(project.work.dir).filter((f) => f.includes('.tmp')), [])

    const imported = run(['image', 'import', '-c', 'CMD ["cat", "/made"]', '-c', 'WORKDIR /tmp', '-m', 'from export', 'fs.tar', 'imported:1'])
    assert.equal(imported.status, 0, imported.stderr)
    const inspected = JSON.parse(run(['image', 'inspect', 'imported:1']).stdout)[0]
    assert.equal(inspected.layers.length, 1)
    assert.equal(inspected.config.workingDir, '/tmp')
    assert.equal(run(['--profile', 'later', 'run', '--rm', '-T', 'imported']).stdout, 'made here\n')
    const history = run(['image', 'history', '--format', 'json', 'imported:1']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(history.map((h) => [h.CreatedBy, h.Comment]), [['', 'from export']])

    // From standard input, gzip-compressed, with Docker's default comment.
    const gz = execFileSync('gzip', ['-c', project.work.path('fs.tar')])
    writeFileSync(project.work.path('fs.tar.gz'), gz)
    const piped = execFileSync('sh', ['-c', `${process.execPath} ${process.cwd()}/bin/pier.js image import - piped:1 < fs.tar.gz`], { cwd: project.work.dir, env: project.env(), encoding: 'utf8' })
    assert.match(piped, /^sha256:[a-f0-9]{64}\n$/)
    assert.match(run(['image', 'history', 'piped:1']).stdout, /Imported from -/)
  })

  it('image prune removes dangling images, -a every image no container uses, and says what it reclaimed', () => {
    // A commit without a name is dangling.
    assert.equal(run(['commit', 'app']).status, 0)
    const before = JSON.parse(run(['images', '--format', 'json']).stdout) as { id: string; tags: string[] }[]
    const dangling = before.filter((i) => i.tags.length === 0)
    assert.equal(dangling.length, 1)
    const refused = run(['image', 'prune'])
    assert.deepEqual([refused.status, refused.stderr], [1, 'error: WARNING! This will remove all dangling images: add -f to confirm\n'])
    const pruned = run(['image', 'prune', '-f'])
    assert.equal(pruned.status, 0, pruned.stderr)
    assert.equal(pruned.stdout, `Deleted Images:\ndeleted: ${dangling[0].id}\n\nTotal reclaimed space: ${/Total reclaimed space: (\S+)/.exec(pruned.stdout)?.[1]}\n`)
    assert.doesNotMatch(pruned.stdout, /Total reclaimed space: 0B/)
    assert.equal(run(['image', 'prune', '-f']).stdout, 'Total reclaimed space: 0B\n')

    const all = run(['image', 'prune', '-a', '-f'])
    assert.equal(all.status, 0, all.stderr)
    assert.match(all.stdout, /untagged: snap:1\n/)
    assert.match(all.stdout, /untagged: imported:1\n/)
    assert.doesNotMatch(all.stdout, /busybox/, 'the running container uses busybox')
    const left = (JSON.parse(run(['images', '--format', 'json']).stdout) as { tags: string[] }[]).map((i) => i.tags)
    assert.deepEqual(left, [['docker.io/library/busybox:latest']])
    assert.equal(run(['exec', '-T', 'app', 'cat', '/made']).stdout, 'made here\n', 'its layers are still there')
  })

  it('gives one line and exit 1 for bad input, and makes nothing', () => {
    const count = () => (JSON.parse(run(['images', '--format', 'json']).stdout) as unknown[]).length
    const n = count()
    const noService = run(['commit', 'nope'])
    assert.equal(noService.status, 1)
    assert.match(noService.stderr, /^error: no such service: "nope"/)
    const badChange = run(['commit', '-c', 'RUN rm -rf /', 'app', 'bad:1'])
    assert.deepEqual([badChange.status, badChange.stderr], [1, 'error: --change "RUN rm -rf /": RUN cannot change an image here; use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK\n'])
    writeFileSync(project.work.path('not.tar'), 'just text, not a tar archive at all\n'.repeat(20))
    const notTar = run(['image', 'import', 'not.tar', 'bad:2'])
    assert.equal(notTar.status, 1)
    assert.match(notTar.stderr, /^error: that is not a tar archive \(plain or gzip\) of a root filesystem: make one with "tar -C DIR -c \." or "pier export"\n$/)
    const missing = run(['image', 'import', 'missing.tar'])
    assert.deepEqual([missing.status, missing.stderr], [1, 'error: cannot read missing.tar: no such file\n'])
    assert.equal(run(['export', 'app', '--index', '0']).status, 1)
    const noHistory = run(['image', 'history', 'nope:1'])
    assert.equal(noHistory.status, 1)
    assert.match(noHistory.stderr, /^error: no such image: nope:1/)
    assert.equal(count(), n)
    assert.equal(readdirSync(`${project.root}/images/blobs/sha256`).length > 0, true)
  })
})

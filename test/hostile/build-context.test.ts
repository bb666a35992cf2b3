import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { lstatSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { EmbeddedEngine } from '../../src/engine/embedded/engine.js'
import type { Image } from '../../src/engine/engine.js'
import { oneLine, Sandbox } from '../support/sandbox.js'

/**
 * Hostile build contexts: links that lead out of the context, a Dockerfile
 * that is a link, a fifo or a socket where a file should be. The engine root
 * is in the sandbox too; `outside/secret` is the host file no build may read.
 * Only FROM scratch and COPY: nothing here needs a runtime.
 */
describe('hostile build contexts', () => {
  let box: Sandbox
  let context: string
  let engine: EmbeddedEngine
  let secret: string
  beforeEach(() => {
    box = new Sandbox()
    secret = box.canary('outside', 'secret')
    context = box.mkdir('context')
    engine = new EmbeddedEngine({ root: box.mkdir('root') })
  })
  afterEach(async () => {
    await engine.close()
    box.cleanup()
  })

  const build = (dockerfile: string, extra: { dockerfile?: string } = {}) =>
    engine.buildImage({ context, ...(extra.dockerfile ? extra : { dockerfileInline: dockerfile }), args: {}, labels: {}, tags: ['hostile:latest'] })
  /** The one layer of a one-COPY image, as unpacked in the store. */
  const layerOf = (image: Image) => box.path('root', 'images', 'layers', image.layers.at(-1)!.slice(7))
  const nothingBuilt = async () => {
    assert.deepEqual(await engine.listImages(), [])
    assert.deepEqual(readdirSync(box.path('root', 'tmp')), [])
    box.intact()
  }

  it('resolves a link to / inside the context: COPY link/secret finds the context\'s file, never the host\'s', async () => {
    symlinkSync(box.path('outside'), join(context, 'link'))
    await assert.rejects(build('FROM scratch\nCOPY link/secret /x\n'), oneLine(/Dockerfile line 2: link\/secret not found in the build context/))
    await nothingBuilt()
    // The same link names the context's own copy of that path, as the image would see it.
    execFileSync('mkdir', ['-p', join(context, box.path('outside'))])
    writeFileSync(join(context, box.path('outside'), 'secret'), 'the context\'s')
    const image = await build('FROM scratch\nCOPY link/secret /x\n')
    assert.equal(readFileSync(join(layerOf(image), 'x'), 'utf8'), 'the context\'s')
    box.intact()
  })

  it('stops a relative link\'s .. at the context root', async () => {
    symlinkSync('../outside', join(context, 'up'))
    symlinkSync('../../../../../..', join(context, 'far'))
    await assert.rejects(build('FROM scratch\nCOPY up/secret /x\n'), oneLine(/up\/secret not found in the build context/))
    await assert.rejects(build(`FROM scratch\nCOPY far${box.path('outside', 'secret')} /x\n`), oneLine(/not found in the build context/))
    await assert.rejects(build('FROM scratch\nCOPY up/* /x/\n'), oneLine(/nothing in the build context matches up\/\*/))
    await assert.rejects(build('FROM scratch\nCOPY ../outside/secret /x\n'), oneLine(/\.\.\/outside\/secret is outside the build context/))
    await nothingBuilt()
  })

  it('copies links inside a copied directory as links', async () => {
    execFileSync('mkdir', [join(context, 'tree')])
    symlinkSync(box.path('outside'), join(context, 'tree', 'out'))
    symlinkSync(secret, join(context, 'tree', 'file'))
    const image = await build('FROM scratch\nCOPY tree /t\n')
    assert.equal(readlinkSync(join(layerOf(image), 't', 'out')), box.path('outside'))
    assert.ok(lstatSync(join(layerOf(image), 't', 'file')).isSymbolicLink())
    box.intact()
  })

  it('reads a Dockerfile that is a link inside the context, never the host file it names', async () => {
    symlinkSync(secret, join(context, 'Dockerfile'))
    await assert.rejects(build('', { dockerfile: 'Dockerfile' }), oneLine(/cannot read the Dockerfile Dockerfile in the build context/))
    await assert.rejects(build('', { dockerfile: join(context, 'Dockerfile') }), oneLine(/cannot read the Dockerfile/))
    await nothingBuilt()
  })

  it('refuses a fifo as the Dockerfile instead of waiting on it forever', async () => {
    execFileSync('mkfifo', [join(context, 'Dockerfile')])
    await assert.rejects(build('', { dockerfile: 'Dockerfile' }), oneLine(/cannot read the Dockerfile/))
    await nothingBuilt()
  })

  describe('with a socket in the context', () => {
    let server: Server
    beforeEach(async () => {
      execFileSync('mkdir', [join(context, 'app')])
      writeFileSync(join(context, 'app', 'main'), 'x')
      server = createServer()
      await new Promise<void>((done) => server.listen(join(context, 'app', 'agent.sock'), done))
    })
    afterEach(() => new Promise<void>((done) => server.close(() => done())))

    it('names the socket in one line', async () => {
      await assert.rejects(build('FROM scratch\nCOPY app /app\n'), oneLine(/app\/agent\.sock is a socket, which cannot go into a layer/))
      await nothingBuilt()
    })
  })
  it('reads .dockerignore inside the context and refuses a fifo there instead of waiting on it', async () => {
    execFileSync('mkfifo', [join(context, '.dockerignore')])
    await assert.rejects(build('FROM scratch\nCOPY . /x\n'), oneLine(/\.dockerignore is not a regular file/))
    await nothingBuilt()
  })

  it('resolves --chown names in the image, never through a link to the host\'s /etc/passwd', async () => {
    execFileSync('mkdir', ['-p', join(context, 'etc')])
    symlinkSync('/etc/passwd', join(context, 'etc', 'passwd'))
    writeFileSync(join(context, 'f'), 'x')
    // The image's /etc/passwd is a link to /etc/passwd: inside the image, itself (a loop), never the host's.
    await assert.rejects(build('FROM scratch\nCOPY etc /etc\nCOPY --chown=root f /f\n'), oneLine(/Dockerfile line 3: --chown=root: too many levels of symbolic links/))
    box.intact()
  })

  it('unpacks an ADDed archive inside its destination: a .. entry is refused', async () => {
    const tarPath = join(context, 'evil.tar')
    execFileSync('python3', ['-c', `import tarfile,io\nt=tarfile.open('${tarPath}','w')\ni=tarfile.TarInfo('../../escaped')\ni.size=1\nt.addfile(i,io.BytesIO(b'x'))\nt.close()`])
    await assert.rejects(build('FROM scratch\nADD evil.tar /x/\n'), oneLine(/Dockerfile line 2: ADD cannot unpack evil.tar/))
    await nothingBuilt()
  })
  it('reads COPY --from=<stage> inside that stage: a link there to the host\'s file is not followed out', async () => {
    symlinkSync(box.path('outside'), join(context, 'link'))
    await assert.rejects(build('FROM scratch AS a\nCOPY link /link\nFROM scratch\nCOPY --from=a /link/secret /x\n'), oneLine(/Dockerfile line 4: \/link\/secret not found in stage a/))
    await nothingBuilt()
  })
})

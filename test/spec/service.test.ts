import assert from 'node:assert/strict'
import { load, loadFails, service } from '../support/helpers.js'

describe('service attributes', () => {
  it('splits a string command as a shell would, without running one', async () => {
    const web = await service(`services:\n  web:\n    image: x\n    command: sh -c 'echo "a b" $$HOME' done\n    entrypoint: ""\n`)
    assert.deepEqual(web.command, ['sh', '-c', 'echo "a b" $HOME', 'done'])
    assert.deepEqual(web.entrypoint, [], 'an empty entrypoint clears the image one')
  })

  it('builds the environment from env_file, then environment over it', async () => {
    const { project } = await load(
      {
        'compose.yaml': `services:
  web:
    image: x
    env_file:
      - common.env
      - path: local.env
        required: false
      - path: missing.env
        required: false
    environment:
      - B=from-environment
      - FROM_SHELL
      - NOT_SET_ANYWHERE
      - EMPTY=
`,
        'common.env': 'A=1\nB=2\nC=${A}x\n',
        'local.env': 'C=local\n',
      },
      { environment: { FROM_SHELL: 'shell' } },
    )
    const web = project.services.web
    assert.deepEqual(web.environment, { A: '1', B: 'from-environment', C: 'local', FROM_SHELL: 'shell', EMPTY: '' })
    assert.deepEqual(web.env_file!.map((e) => [e.path.endsWith('.env'), e.required]), [[true, true], [true, false], [true, false]])
  })

  it('refuses a required env_file that does not exist', async () => {
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: nope.env\n' }, [
      /compose\.yaml:4:5: services\.web\.env_file\[0\]: env file .*nope\.env not found: create it, or mark it optional with "required: false"/,
    ])
  })

  it('normalizes build: context made absolute, Dockerfile default, args resolved', async () => {
    const { project } = await load(
      { 'compose.yaml': 'services:\n  a:\n    build: ./app\n  b:\n    build:\n      context: https://github.com/x/y.git\n      args: [ONE=1, FROM_ENV, UNSET]\n      shm_size: 1g\n' },
      { environment: { FROM_ENV: 'e' } },
    )
    assert.deepEqual(project.services.a.build, { context: `${project.workingDir}/app`, dockerfile: 'Dockerfile' })
    assert.deepEqual(project.services.b.build, {
      args: { ONE: '1', FROM_ENV: 'e', UNSET: null },
      context: 'https://github.com/x/y.git',
      dockerfile: 'Dockerfile',
      shm_size: 1024 ** 3,
    })
  })

  it('normalizes a healthcheck: test as a list, durations in milliseconds', async () => {
    const web = await service(`services:
  web:
    image: x
    healthcheck:
      test: wget -q localhost
      interval: 1m30s
      timeout: 5s
      start_period: 100ms
      start_interval: 1s
      retries: "4"
`)
    assert.deepEqual(web.healthcheck, { test: ['CMD-SHELL', 'wget -q localhost'], interval: 90_000, timeout: 5000, start_period: 100, start_interval: 1000, retries: 4 })
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    healthcheck:\n      interval: "30"\n' }, [
      /services\.web\.healthcheck\.interval: invalid duration "30": use a number with a unit, like 10s/,
    ])
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    healthcheck:\n      test: [curl, x]\n' }, [/starts with "CMD", "CMD-SHELL" or "NONE"/])
  })

  it('normalizes depends_on to the long form with conditions', async () => {
    const { project } = await load({
      'compose.yaml': `services:
  web:
    image: x
    depends_on:
      db: {condition: service_healthy, restart: true}
      init: {condition: service_completed_successfully, required: false}
  api:
    image: x
    depends_on: [db]
  db:
    image: x
  init:
    image: x
`,
    })
    assert.deepEqual(project.services.web.depends_on, {
      db: { condition: 'service_healthy', restart: true, required: true },
      init: { condition: 'service_completed_successfully', required: false },
    })
    assert.deepEqual(project.services.api.depends_on, { db: { condition: 'service_started', required: true } })
  })

  it('converts resources: byte sizes, cpus, limits under deploy', async () => {
    const web = await service(`services:
  web:
    image: x
    mem_limit: 512m
    memswap_limit: -1
    shm_size: "64M"
    cpus: "0.5"
    pids_limit: 100
    stop_grace_period: 1m
    deploy:
      replicas: "2"
      resources:
        limits: {cpus: "1.5", memory: 1g, pids: 50}
        reservations: {memory: 100k}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3}
`)
    assert.equal(web.mem_limit, 512 * 1024 ** 2)
    assert.equal(web.memswap_limit, -1)
    assert.equal(web.shm_size, 64 * 1024 ** 2)
    assert.equal(web.cpus, 0.5)
    assert.equal(web.stop_grace_period, 60_000)
    assert.deepEqual(web.deploy, {
      replicas: 2,
      resources: { limits: { cpus: 1.5, memory: 1024 ** 3, pids: 50 }, reservations: { memory: 102_400 } },
      restart_policy: { condition: 'on-failure', delay: 5000, max_attempts: 3 },
    })
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    mem_limit: lots\n' }, [/services\.web\.mem_limit: invalid size "lots"/])
  })

  it('reads ulimits, devices, extra_hosts, sysctls, tmpfs, dns and secrets', async () => {
    const { project } = await load({
      'compose.yaml': `services:
  web:
    image: x
    ulimits:
      nproc: 65535
      nofile: {soft: 1024, hard: 2048}
    devices: ["/dev/fuse", "/dev/a:/dev/b:r"]
    extra_hosts: ["db:10.0.0.2", "v6=::1", "db=10.0.0.3"]
    sysctls: [net.core.somaxconn=1024]
    tmpfs: /run
    dns: 1.1.1.1
    secrets: [token, {source: cert, target: /certs/c.pem, mode: "0400"}]
    restart: on-failure:3
secrets:
  token: {environment: TOKEN}
  cert: {file: ./cert.pem}
`,
    })
    const web = project.services.web
    assert.deepEqual(web.ulimits, { nproc: { soft: 65535, hard: 65535 }, nofile: { soft: 1024, hard: 2048 } })
    assert.deepEqual(web.devices, [
      { source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' },
      { source: '/dev/a', target: '/dev/b', permissions: 'r' },
    ])
    assert.deepEqual(web.extra_hosts, { db: ['10.0.0.2', '10.0.0.3'], v6: ['::1'] })
    assert.deepEqual(web.sysctls, { 'net.core.somaxconn': '1024' })
    assert.deepEqual(web.tmpfs, ['/run'])
    assert.deepEqual(web.dns, ['1.1.1.1'])
    assert.deepEqual(web.secrets, [{ source: 'token' }, { source: 'cert', target: '/certs/c.pem', mode: 0o400 }])
    assert.equal(web.restart, 'on-failure:3')
    assert.equal(project.secrets.cert.file, `${project.workingDir}/cert.pem`)
    assert.equal(project.secrets.token.name, 'proj_token')
  })

  it('rejects values the engine could never use', async () => {
    const one = (attr: string) => ({ 'compose.yaml': `services:\n  web:\n    image: x\n    ${attr}\n` })
    await loadFails(one('restart: sometimes'), [/invalid restart policy "sometimes": use no, always, on-failure\[:MAX\] or unless-stopped/])
    await loadFails(one('tty: maybe'), [/services\.web\.tty: invalid boolean "maybe"/])
    await loadFails(one('ulimits: {nofile: {soft: 10, hard: 5}}'), [/the soft limit \(10\) is above the hard limit \(5\)/])
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    build: .\n    scale: 2\n    container_name: one\n' }, [/sets container_name, so it cannot run 2 replicas/])
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    hostname: x\n' }, [/service "web" has neither an image nor a build/])
    await loadFails({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on: [dbb]\n  db:\n    image: y\n' }, [/depends on "dbb", which is not defined: did you mean "db"\?/])
  })
})

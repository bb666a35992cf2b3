import assert from 'node:assert/strict'
import { load, loadFails, pier, TempProject } from '../support/helpers.js'

/** Hostile or broken input ends in one clear line and exit 1: never a stack, never "a bug in pier". */
describe('input bounds', () => {
  const web = (extra: string) => `services:\n  web:\n    image: a\n${extra}`

  it('reads env_file only from a regular file', async () => {
    await loadFails({ 'compose.yaml': web('    env_file: /dev/zero\n') }, [/services\.web\.env_file\[0\]: env file \/dev\/zero is not a regular file/])
    await loadFails({ 'compose.yaml': web('    env_file: conf\n'), 'conf/x': '' }, [/env_file\[0\]: env file .*conf is a directory, not a file/])
  })

  it('refuses a compose file that is a device, with exit 1', () => {
    const device = pier(['-f', '/dev/zero', 'config'])
    assert.equal(device.status, 1)
    assert.match(device.stderr, /^error: \/dev\/zero is not a regular file/)
  })

  // Through the loader, not the CLI: Node 20 itself reads a `--env-file` it finds after the script name.
  it('refuses an --env-file that is a device', async () => {
    await loadFails({ 'compose.yaml': web('') }, [/env file \/dev\/zero is not a regular file/], { envFiles: ['/dev/zero'] })
  })

  it('bounds what aliases expand to, early', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`)
    const started = Date.now()
    await loadFails({ 'compose.yaml': lines.join('\n') + '\n' + web('') }, [/aliases expand to too large a document/])
    assert.ok(Date.now() - started < 5000, 'stops before expanding everything')
  })

  it('refuses YAML nested thousands of levels deep with one line', async () => {
    await loadFails({ 'compose.yaml': web(`    x-deep: ${'['.repeat(5000)}${']'.repeat(5000)}\n`) }, [/invalid YAML: nested too deeply/])
    await loadFails({ 'compose.yaml': web(`    x-deep: ${'['.repeat(300)}${']'.repeat(300)}\n`) }, [/compose\.yaml:4:\d+: invalid YAML: nested too deeply \(more than 200 levels\)$/])
  })

  it('refuses ${A:-…} nested thousands of levels deep with one line, exit 1', () => {
    const tmp = new TempProject({ 'compose.yaml': web(`    environment: ["X=${'${A:-'.repeat(5000)}x${'}'.repeat(5000)}"]\n`) })
    try {
      const result = pier(['config', '-q'], { cwd: tmp.dir })
      assert.equal(result.status, 1)
      assert.match(result.stderr, /interpolation nested more than 200 levels deep/)
      assert.equal(result.stderr.trim().split('\n').length, 1)
    } finally {
      tmp.cleanup()
    }
  })

  it('finds a duplicate key among 50,000 in linear time, naming it', async () => {
    const labels = Array.from({ length: 50_000 }, (_, i) => `      k${i}: v\n`).join('')
    const started = Date.now()
    await loadFails({ 'compose.yaml': web(`    labels:\n${labels}      k7: again\n`) }, [/services\.web\.labels\.k7: invalid YAML: duplicate key "k7"/])
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
  })

  it('bounds scale and deploy.replicas', async () => {
    await loadFails({ 'compose.yaml': web('    scale: 1e20\n') }, [/services\.web\.scale: scale 100000000000000000000 is more than pier runs for one service \(10000\)/])
    await loadFails({ 'compose.yaml': web('    deploy: {replicas: 20000}\n') }, [/services\.web\.deploy\.replicas: deploy\.replicas 20000 is more/])
  })

  it('treats a zero healthcheck duration as unset, as Compose does', async () => {
    const { project } = await load({ 'compose.yaml': web('    healthcheck: {test: [CMD, "true"], interval: 0s, timeout: 0s, start_period: 0s, start_interval: 0s, retries: 2}\n') })
    assert.deepEqual(project.services.web.healthcheck, { test: ['CMD', 'true'], retries: 2 })
  })

  it('validates stop_signal, capabilities and cpus', async () => {
    await loadFails({ 'compose.yaml': web('    stop_signal: SIGFOO\n') }, [/services\.web\.stop_signal: unknown signal "SIGFOO"/])
    await loadFails({ 'compose.yaml': web('    cap_add: [NET_ADMIN, CAP_SYS_TIME, BOGUS]\n') }, [/services\.web\.cap_add\[2\]: unknown capability "BOGUS"/])
    await loadFails({ 'compose.yaml': web('    cap_drop: [CAP_NOPE]\n') }, [/cap_drop\[0\]: unknown capability/])
    await loadFails({ 'compose.yaml': web('    cpus: -2\n') }, [/services\.web\.cpus: invalid cpus -2/])
    const { project } = await load({ 'compose.yaml': web('    stop_signal: "9"\n    cap_add: [ALL, net_admin, CAP_CHOWN]\n    cap_drop: [SETUID]\n') })
    assert.equal(project.services.web.stop_signal, '9')
    for (const ok of ['SIGTERM', 'term', 'SIGRTMIN+3', 'RTMAX-1']) {
      await load({ 'compose.yaml': web(`    stop_signal: ${ok}\n`) })
    }
  })

  it('checks host IPs of ports as address literals, never looked up', async () => {
    await loadFails({ 'compose.yaml': web('    ports: ["localhost:80:80"]\n') }, [/services\.web\.ports\[0\]: invalid host IP "localhost" in port "localhost:80:80"/])
    await loadFails({ 'compose.yaml': web('    ports: [{target: 80, host_ip: "1.2.3"}]\n') }, [/services\.web\.ports\[0\]\.host_ip: invalid host IP "1\.2\.3"/])
    const { project } = await load({ 'compose.yaml': web('    ports: ["[::1]:80:80", {target: 81, host_ip: 127.0.0.1}]\n') })
    assert.deepEqual(project.services.web.ports.map((p) => p.host_ip), ['::1', '127.0.0.1'])
  })

  it('refuses names that would be written raw into /etc/hosts or resolv.conf', async () => {
    await loadFails({ 'compose.yaml': web('    container_name: "evil\\n1.2.3.4 bank"\n') }, [/services\.web\.container_name: invalid container name "evil\\n1\.2\.3\.4 bank"/])
    await loadFails({ 'compose.yaml': web('    networks:\n      default:\n        aliases: ["a b"]\n') }, [/aliases\[0\]: invalid alias "a b"/])
    await loadFails({ 'compose.yaml': web('    hostname: "h\\nx"\n') }, [/services\.web\.hostname: invalid hostname/])
    await loadFails({ 'compose.yaml': web('    dns: ["8.8.8.8\\nnameserver 6.6.6.6"]\n') }, [/services\.web\.dns\[0\]: invalid DNS server/])
    await loadFails({ 'compose.yaml': web('    dns_search: ["a b"]\n') }, [/services\.web\.dns_search\[0\]: invalid search domain "a b"/])
    await loadFails({ 'compose.yaml': web('    extra_hosts: ["bad host=1.2.3.4"]\n') }, [/extra_hosts: invalid extra host name "bad host"/])
    await loadFails({ 'compose.yaml': web('    extra_hosts: ["h=1.2.3.400"]\n') }, [/extra_hosts: invalid address "1\.2\.3\.400" for extra host "h"/])
    const { project } = await load({ 'compose.yaml': web('    container_name: my_app.1\n    hostname: web-1.local\n    dns: [1.1.1.1, "::1"]\n    dns_search: [example.com, .]\n    extra_hosts: ["gw=host-gateway"]\n') })
    assert.equal(project.services.web.container_name, 'my_app.1')
  })
})

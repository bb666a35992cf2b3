/** The generated projects the benches share. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A project of `count` services using extends, an anchor merged into every
 * service, .env interpolation, ports, volumes and environment: the cold path
 * of `config` (parse, interpolate, validate, normalize) at scale.
 */
export function generateProject(count: number): string {
  const lines = [
    'name: bench',
    'x-defaults: &defaults',
    '  restart: unless-stopped',
    '  environment:',
    '    LOG_LEVEL: "${LOG_LEVEL:-info}"',
    '    REGION: "$REGION"',
    '  labels:',
    '    team: platform',
    'services:',
    '  base:',
    '    image: "busybox:${TAG:-latest}"',
    '    healthcheck:',
    '      test: ["CMD", "true"]',
    '      interval: 10s',
  ]
  for (let i = 0; i < count - 1; i++) {
    lines.push(
      `  svc${i}:`,
      '    <<: *defaults',
      '    extends: base',
      `    ports: ["127.0.0.1:${20000 + i}:80", "${30000 + i}:81/udp"]`,
      `    volumes: ["data${i % 10}:/data", "./conf/${i}:/etc/conf:ro"]`,
      `    environment: [INDEX=${i}, "NAME=svc${i}"]`,
      i > 0 ? `    depends_on: [svc${i - 1}]` : '    depends_on: [base]',
    )
  }
  lines.push('volumes:')
  for (let i = 0; i < 10; i++) lines.push(`  data${i}:`)
  return lines.join('\n') + '\n'
}

/** A service that stops at once on SIGTERM (a shell waiting on sleep), so `down` measures the tool, not a grace period. */
const SERVICE = `image: busybox\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]`

/** `count` busybox services in `dir`/`name`.yaml, each depending on the one before with `chain`. */
export function servicesFile(dir: string, name: string, count: number, chain: boolean): string {
  const file = join(dir, `${name}.yaml`)
  const services = Array.from({ length: count }, (_, i) => `  s${i}:\n    ${SERVICE}${chain && i > 0 ? `\n    depends_on: [s${i - 1}]` : ''}\n`).join('')
  writeFileSync(file, `services:\n${services}`)
  return file
}

import type { Platform } from './engine.js'

/** The platform this machine runs, in OCI terms. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' }
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch }
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`
}

/** `linux/amd64`, `linux/arm64/v8`. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/')
  return { os, architecture, ...(variant ? { variant } : {}) }
}

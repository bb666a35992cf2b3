// Apart from dockerfile.ts, so that expanding a word does not load the Dockerfile parser (dockerfile-ast).

/**
 * Docker's variable substitution in Dockerfile words: $V, ${V}, ${V:-word},
 * ${V:+word}, \$ for a literal dollar.
 */
export function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced, op, word, bare) => {
    if (m === '\\$') return '$'
    const name = braced ?? bare
    const value = vars[name]
    if (op === '-') return value ? value : word
    if (op === '+') return value ? word : ''
    return value ?? ''
  })
}

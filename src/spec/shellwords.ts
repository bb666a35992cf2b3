/**
 * Splits a command string into arguments as a POSIX shell would, without
 * running a shell: quotes group, backslashes escape, nothing is expanded.
 * Compose uses this for the string form of `command` and `entrypoint`.
 */
export function shellSplit(text: string): string[] {
  const args: string[] = []
  let current = ''
  let inArg = false
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inArg) args.push(current)
      current = ''
      inArg = false
      i++
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1)
      if (end < 0) throw new Error('unterminated single quote')
      current += text.slice(i + 1, end)
      inArg = true
      i = end + 1
    } else if (c === '"') {
      i++
      while (i < text.length && text[i] !== '"') {
        // Inside double quotes a backslash only escapes these characters.
        if (text[i] === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1])) {
          if (text[i + 1] !== '\n') current += text[i + 1]
          i += 2
        } else {
          current += text[i++]
        }
      }
      if (i >= text.length) throw new Error('unterminated double quote')
      inArg = true
      i++
    } else if (c === '\\') {
      if (i + 1 < text.length && text[i + 1] !== '\n') current += text[i + 1]
      inArg = true
      i += 2
    } else {
      current += c
      inArg = true
      i++
    }
  }
  if (inArg) args.push(current)
  return args
}

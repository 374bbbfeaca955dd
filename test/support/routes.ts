/** Fastify's own route table, read for the security tests that walk every route. */

/** The routes of `app.printRoutes({ commonPrefix: false })`: "METHOD /path/:param", one per method. */
export function printedRoutes(text: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^([\s│├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    // Four characters of tree drawing per level; the root ("└── /") is level 1.
    const depth = Math.round(m[1]!.length / 4);
    const segment = m[2]!;
    const parent = depth <= 1 ? '' : (stack[depth - 1] ?? '');
    const path = depth <= 1 ? segment : `${parent}${parent.endsWith('/') || segment.startsWith('/') ? '' : '/'}${segment}`;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of m[3]!.split(', ')) out.push(`${method} ${path}`);
  }
  return out;
}

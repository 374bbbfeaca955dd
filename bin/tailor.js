#!/usr/bin/env node
// The `tailor` command: the bundled code in dist/ (built by `npm ci` through `prepare`, or by
// `npm run build`). No TypeScript loader at run time, so start-up stays fast.
import { existsSync } from 'node:fs';

const main = new URL('../dist/tailor.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('tailor: dist/ is missing; run `npm run build` (npm ci does it) and try again.\n');
  process.exit(2);
}
await import(main.href);

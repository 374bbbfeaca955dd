#!/usr/bin/env node
// Builds what `bin/tailor.js` runs: src/ compiled to dist/ by the TypeScript compiler (incremental,
// about 2 s when little changed), then the files that are not TypeScript (SQL migrations, the web
// UI's assets) copied beside the code that reads them. `npm ci` runs this through `prepare`; the
// test runner runs it once per run (test/support/build.ts) so tests always exercise fresh code.
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
cpSync(join(root, 'src'), join(root, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.ts') });

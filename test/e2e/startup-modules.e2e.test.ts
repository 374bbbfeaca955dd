/**
 * Start-up loads what serving needs and no more (the 500 ms start-up bar, docs/benchmarks.md):
 * `tailor serve` on SQLite must not load the PostgreSQL driver, the phone-number library (loaded
 * once it listens, or at the first number), the import's CSV reader, the emulator, or Ajv (Fastify's
 * validator, which Tailor's describing compilers leave unused) or the OpenAPI generator's YAML library
 * (the document is built at its first request). A phone number sent the moment the
 * server listens is still read as one.
 *
 * The build bundles (scripts/build.mjs): a file of dist/ stands for the sources its source map names,
 * so a module bundled into a start-up chunk counts as loaded, run or not (its code is read and parsed).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess } from './harness.ts';

const RECORDER = resolve('test/support/load-recorder.mjs');
const DIST = pathToFileURL(resolve('dist')).href + '/';
const NOT_AT_START = [
  /^cjs:@fastify\/ajv-compiler$/,
  /^cjs:ajv$/,
  /^cjs:yaml$/, // @fastify/swagger's, loaded when the OpenAPI document is first asked for
  /node_modules\/@fastify\/ajv-compiler\//,
  /node_modules\/ajv\//,
  /node_modules\/yaml\//,
  /node_modules\/pg\//,
  /node_modules\/libphonenumber-js\//,
  /node_modules\/csv-parse\//,
  /node_modules\/cli-progress\//,
  /\/src\/emulator\//,
];

/** A recorded line, and for a bundle file every source it was built from (the paths its source map names). */
function modulesOf(line: string): string[] {
  const map = line.startsWith(DIST) && line.endsWith('.js') ? `${fileURLToPath(line)}.map` : '';
  if (map === '' || !existsSync(map)) return [line];
  const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
  // Paths, and the names of the build's own stand-ins (`later:…`, scripts/build.mjs) as they are.
  const paths = sources.map((source) => new URL(source, line)).map((url) => (url.protocol === 'file:' ? fileURLToPath(url) : url.href));
  return [line, ...paths];
}

let emu: Emu;
let dir: string;
beforeAll(async () => {
  emu = await Emu.start();
  dir = mkdtempSync(join(tmpdir(), 'tailor-startup-modules-'));
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tailor serve start-up', () => {
  it('loads none of the modules only other commands or later work need, and reads a phone number sent at once', async () => {
    const record = join(dir, 'loads.txt');
    const tailor = await TailorProcess.start(emu, { env: { NODE_OPTIONS: `--import ${RECORDER}`, TAILOR_TEST_LOAD_RECORD: record } });
    try {
      // What it loaded until it listened (the phone library follows right after, in the background).
      const lines = readFileSync(record, 'utf8').split('\n').filter(Boolean);
      expect(lines).toContain('listening');
      const atStart = lines.slice(0, lines.indexOf('listening')).flatMap(modulesOf);
      expect(atStart.some((path) => path.endsWith('/src/server/app.ts'))).toBe(true); // the recorder and the source maps work
      for (const pattern of NOT_AT_START) expect(atStart.filter((url) => pattern.test(url))).toEqual([]);

      const configurationId = await tailor.addConfiguration(emu);
      expect((await tailor.api('PUT', '/audiences/callers', { name: 'Callers' })).status).toBe(201);
      expect((await tailor.api('PUT', `/audiences/callers/connections/${configurationId}`, { forward_phone_numbers: true })).status).toBe(201);
      const res = await tailor.api('POST', '/audiences/callers/members', {
        add: [
          { user_id: 'u1', phone_number: '(202) 555-0143' },
          { user_id: 'u2', phone_number: '202 555 014' }, // too short
        ],
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ accepted: { add: 2, remove: 0 }, rejected: [{ index: 1, field: 'phone_number', reason: 'invalid_phone' }] });
    } finally {
      await tailor.stop();
    }
  });
});

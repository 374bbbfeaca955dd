/**
 * Issue 14's retention and audit log end to end: a real `tailor serve` against the X emulator, on
 * SQLite and PostgreSQL. The CLI adds the configuration and the typed client makes the rest of the
 * changes; `GET /api/v1/audit` shows each with its actor. With TAILOR_X_DATA_RETENTION_DAYS set to
 * a few seconds, the samples of X's size are pruned while Tailor runs: the first ones taken go,
 * newer ones keep coming.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Schemas } from 'tailor/client';
import { createTestDatabase } from '../store/pg.ts';
import { Emu, TailorProcess, tailorEnv, waitFor } from './harness.ts';

/** Three seconds, in days. */
const RETENTION_DAYS = String(3 / 86_400);

function run(args: string[], env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve('bin/tailor.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (status) => done({ status, out }));
  });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`retention of X's data and the audit log, end to end (${dialect})`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('records the CLI’s and the API’s changes, and prunes samples past the retention while running', async () => {
      const emu = await Emu.start({ sizingDelayMs: 0 });
      cleanups.push(() => emu.close());
      const dir = mkdtempSync(join(tmpdir(), 'tailor-privacy-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      let databaseUrl = `sqlite:${join(dir, 'tailor.db')}`;
      if (dialect === 'postgres') {
        const db = await createTestDatabase();
        cleanups.push(() => db.drop());
        databaseUrl = db.url;
      }
      const env = { ...tailorEnv(emu, databaseUrl), TAILOR_DATABASE_URL: databaseUrl, TAILOR_X_DATA_RETENTION_DAYS: RETENTION_DAYS };
      const { user, accountId } = emu.admin();
      const added = await run(
        ['configurations', 'add', '--account-id', accountId, '--access-token', user.access_token, '--access-token-secret', user.access_token_secret],
        env,
      );
      expect(added.status, added.out).toBe(0);

      const tailor = await TailorProcess.start(emu, { dir, env: { TAILOR_DATABASE_URL: databaseUrl, TAILOR_X_DATA_RETENTION_DAYS: RETENTION_DAYS } });
      cleanups.push(() => tailor.stop({ keepDir: true }));
      const client = tailor.client;
      const [configuration] = await client.listConfigurations();
      await client.putAudience('kept', { name: 'Kept' });
      await client.connect('kept', configuration!.id, { forward_twitter_handles: false, forward_device_ids: false });
      await client.changeMembers('kept', { add: [{ user_id: 'u1', email: 'one@example.com' }] });

      // X's size is read every second (TAILOR_REFRESH_INTERVAL_MS=1000) and each read is a sample.
      const first = await waitFor('a first sample of X’s size', async () => {
        const samples = (await client.audienceHistory('kept')).downstream_audiences.flatMap((d) => d.samples);
        return samples.length > 0 ? Date.parse(samples[0]!.at) : null;
      });
      // Pruned while running: the first sample goes, and later ones are there.
      const later = await waitFor(
        'the first sample pruned',
        async () => {
          const samples = (await client.audienceHistory('kept')).downstream_audiences.flatMap((d) => d.samples);
          return samples.length > 0 && samples.every((s) => Date.parse(s.at) > first) ? samples : null;
        },
        30_000,
      );
      for (const s of later) expect(Date.now() - Date.parse(s.at)).toBeLessThan(3_000 + 2_000 + 2_000); // retention + pruning pace + slack
      expect(tailor.logs).toContain("X's data past its retention deleted");

      const entries: Schemas['AuditEntry'][] = [];
      for await (const e of client.each('/api/v1/audit', { limit: 2 })) entries.push(e);
      expect(entries.map((e) => [e.actor, e.action, e.object_id])).toEqual([
        ['admin_token', 'connection.created', `kept/${configuration!.id}`],
        ['admin_token', 'audience.created', 'kept'],
        ['cli', 'configuration.created', configuration!.id],
      ]);
      expect(JSON.stringify(entries)).not.toContain('one@example.com');
    });
  });
}

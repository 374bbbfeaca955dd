/**
 * Privacy end to end (docs/privacy.md), on SQLite and PostgreSQL: a real `tailor serve`, the X
 * emulator as X.
 *
 * Erasure, by REST and by a Firehose `dsr_processing_request`, each carrying only the person's
 * e-mail and IDFA. The person P is in two audiences with e-mail, handle and IDFA (user id `p-1`);
 * Q shares P's handle in the second audience. After the erasure no X audience holds any of P's
 * hashes, P's member key is gone from the database (the raw file bytes on SQLite, every table on
 * PostgreSQL), re-adding P sends nothing to X, and lifting the suppression sends the handle again
 * where the ledger still holds it: for Q, in the second audience only.
 *
 * Issue 14's retention and audit log: the CLI adds the configuration and the typed client makes
 * the rest of the changes; `GET /api/v1/audit` shows each with its actor. With
 * TAILOR_X_DATA_RETENTION_DAYS set to a few seconds, the samples of X's size are pruned while
 * Tailor runs: the first ones taken go, newer ones keep coming.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Schemas } from 'tailor/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemberKeys } from '../../src/membership/member-key.ts';
import { memberKeyBytes } from '../../src/store/binary.ts';
import { createTestDatabase, type TestDatabase } from '../store/pg.ts';
import { Emu, SECRET_KEY, TailorProcess, sha, tailorEnv, waitFor } from './harness.ts';

const TOKEN = 'e2e-privacy-firehose-token';
const P = { email: 'Jane.Doe@Example.com', twitter_handle: '@JaneDoe', ios_advertising_id: '66B728C2-F9A4-4D87-82EF-CE07414FE3F7' };
const P_HASHES = [sha('jane.doe@example.com'), sha('janedoe'), sha('66b728c2-f9a4-4d87-82ef-ce07414fe3f7')];
const Q_EMAIL = sha('q@example.com');
const H = sha('janedoe');
const P_KEY = new MemberKeys(SECRET_KEY).of('user_id', 'p-1');

for (const dialect of ['sqlite', 'postgres'] as const) {
  for (const via of ['rest', 'firehose'] as const) {
    describe(`erasure by ${via} on ${dialect}`, () => {
      let emu: Emu | undefined;
      let tailor: TailorProcess | undefined;
      let db: TestDatabase | undefined;
      afterEach(async (ctx) => {
        if (ctx.task.result?.state === 'fail' && tailor)
          console.error(
            tailor.logs
              .split('\n')
              .filter((l) => !l.includes('"msg":"request"'))
              .slice(-40)
              .join('\n'),
          );
        await tailor?.stop();
        await emu?.close();
        await db?.drop();
      });

      it('takes the person off every X audience and out of the database, keeps them off, and lifting sends back what others hold', async () => {
        emu = await Emu.start();
        const accountId = emu.admin().accountId;
        if (dialect === 'postgres') db = await createTestDatabase();
        tailor = await TailorProcess.start(emu, { env: { TAILOR_FIREHOSE_TOKEN: TOKEN, ...(db ? { TAILOR_DATABASE_URL: db.url } : {}) } });
        const t = tailor;
        const configId = await t.addConfiguration(emu);
        for (const a of ['buyers', 'newsletter']) {
          expect((await t.api('PUT', `/audiences/${a}`, { name: a })).status).toBeLessThan(300);
          expect((await t.api('PUT', `/audiences/${a}/connections/${configId}`, {})).status).toBeLessThan(300);
        }
        expect((await t.api('POST', '/audiences/buyers/members', { add: [{ user_id: 'p-1', ...P }] })).status).toBe(202);
        expect(
          (
            await t.api('POST', '/audiences/newsletter/members', {
              add: [
                { user_id: 'p-1', ...P },
                { user_id: 'q-1', email: 'q@example.com', twitter_handle: 'janedoe' },
              ],
            })
          ).status,
        ).toBe(202);

        /** Every hash each live X audience of the account holds, by X audience name. */
        const onX = async (): Promise<Record<string, string[]>> => {
          const out: Record<string, string[]> = {};
          for (const a of await emu!.audiences(accountId)) {
            if (a.deleted) continue;
            out[a.name] = Object.values(await emu!.members(accountId, a.id))
              .flat()
              .sort();
          }
          return out;
        };
        const settledTo = async (what: string, want: Record<string, string[]>): Promise<void> => {
          const canonical = (m: Record<string, string[]>): string =>
            JSON.stringify(
              Object.entries(m)
                .map(([k, v]) => [k, [...v].sort()])
                .sort(),
            );
          const sorted = canonical(want);
          await waitFor(what, async () => {
            for (const a of ['buyers', 'newsletter']) if (Object.values(await t.downstreams(a)).some((d: any) => d.pending > 0)) return false;
            return canonical(await onX()) === sorted;
          });
        };
        const [E, , I] = P_HASHES as [string, string, string];
        await settledTo('both audiences on X', {
          'buyers (email)': [E],
          'buyers (handle)': [H],
          'buyers (device id)': [I],
          'newsletter (email)': [E, Q_EMAIL],
          'newsletter (handle)': [H],
          'newsletter (device id)': [I],
        });
        // The check can fail: P's member key is in the database before the erasure.
        expect(await memberKeyStored(t, db)).toBe(true);

        // The erasure names only the e-mail and the IDFA: the handle is found through the ledger.
        let erasureId: string;
        if (via === 'rest') {
          const r = await t.api<{ id: string; state: string }>('POST', '/erasures', { email: P.email, ios_advertising_id: P.ios_advertising_id });
          expect(r.status).toBe(202);
          expect(r.body.state).toBe('pending');
          erasureId = r.body.id;
          // Idempotent: the same request is the same erasure.
          expect((await t.api<{ id: string }>('POST', '/erasures', { ios_advertising_id: P.ios_advertising_id.toLowerCase(), email: P.email })).body.id).toBe(
            erasureId,
          );
        } else {
          const msg = dsrRequest('b7e3c9d2-4a1f-4e6b-8c05-93f1a2d7e4b8');
          const r = await fetch(`${t.url}/firehose`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Token ${TOKEN}` },
            body: msg,
          });
          expect(r.status).toBe(200);
          expect(((await r.json()) as { type: string }).type).toBe('dsr_processing_response');
          // mParticle retries: once per subject_request_id.
          expect((await fetch(`${t.url}/firehose`, { method: 'POST', headers: { authorization: `Token ${TOKEN}` }, body: msg })).status).toBe(200);
          const privacy = (await t.api('GET', '/privacy')).body;
          expect(privacy.erasures).toHaveLength(1);
          erasureId = privacy.erasures[0].id;
        }

        await settledTo('P off every X audience; Q keeps its e-mail, and its handle is suppressed', {
          'buyers (email)': [],
          'buyers (handle)': [],
          'buyers (device id)': [],
          'newsletter (email)': [Q_EMAIL],
          'newsletter (handle)': [],
          'newsletter (device id)': [],
        });
        // X acknowledged the last removal and Tailor settled it (nothing pending): the erasure is
        // done at once, dated when that settle committed. Reads never settle: no waiting, no retry.
        const removals = (await emu.get<{ route: string; status: number; at: number }[]>('/_emulator/requests')).filter(
          (c) => c.route === 'POST custom_audience_users' && c.status === 200,
        );
        const lastRemovalAt = removals.at(-1)!.at;
        const erasure = (await t.api('GET', `/erasures/${erasureId}`)).body;
        const readAt = Date.now();
        expect(erasure).toMatchObject({ id: erasureId, state: 'done', members_erased: 2, x_audiences: 6, source: via === 'rest' ? 'api' : 'firehose' });
        expect(Date.parse(erasure.completed_at)).toBeGreaterThanOrEqual(lastRemovalAt);
        expect(Date.parse(erasure.completed_at)).toBeLessThanOrEqual(readAt);
        // The audit log says so, by the worker whose settle saw it.
        const completed = (await t.api('GET', '/audit?limit=200')).body.data.filter((e: any) => e.action === 'erasure.completed' && e.object_id === erasureId);
        expect(completed).toMatchObject([{ actor: 'worker', at: erasure.completed_at }]);
        for (const hashes of Object.values(await onX())) for (const h of P_HASHES) expect(hashes).not.toContain(h);
        expect((await t.audience('buyers')).members).toBe(0);
        expect((await t.audience('newsletter')).members).toBe(1);
        expect(await memberKeyStored(t, db)).toBe(false);
        const metrics = await (await fetch(`${t.url}/metrics`)).text();
        expect(metrics).toMatch(/^tailor_privacy_pending\{kind="erasure"\} 0$/m);
        expect(metrics).toMatch(/^tailor_privacy_oldest_pending_age_seconds\{kind="suppression"\} 0$/m);

        // Re-added: accepted, counted as suppressed, nothing reaches X.
        const sentBefore = await sentAdds(t);
        const again = await t.api('POST', '/audiences/buyers/members', { add: [{ user_id: 'p-1', ...P }] });
        expect(again.status).toBe(202);
        expect(again.body.accepted.add).toBe(1);
        expect(again.body.rejected.map((r: any) => `${r.field}:${r.reason}`).sort()).toEqual([
          'email:suppressed',
          'ios_advertising_id:suppressed',
          'twitter_handle:suppressed',
        ]);
        const check = await t.api('POST', '/suppressions/check', { email: P.email, twitter_handle: P.twitter_handle });
        expect(check.body).toEqual({ suppressed: true, fields: { email: true, twitter_handle: true } });
        // A later change that X does receive proves the worker has run past the re-add.
        expect((await t.api('POST', '/audiences/buyers/members', { add: [{ user_id: 'z-1', email: 'z@example.com' }] })).status).toBe(202);
        await settledTo('only the new member sent', {
          'buyers (email)': [sha('z@example.com')],
          'buyers (handle)': [],
          'buyers (device id)': [],
          'newsletter (email)': [Q_EMAIL],
          'newsletter (handle)': [],
          'newsletter (device id)': [],
        });
        expect(await sentAdds(t)).toBe(sentBefore + 1);

        // Re-consent: lifted, and sent again where the ledger still holds it (Q's handle).
        const lifted = await t.api('POST', '/suppressions', {
          remove: [{ email: P.email }, { twitter_handle: P.twitter_handle }, { ios_advertising_id: P.ios_advertising_id }],
        });
        expect(lifted.status).toBe(202);
        expect(lifted.body).toMatchObject({ added: 0, lifted: 3, queued: 1 });
        await settledTo("Q's handle back in the newsletter audience only", {
          'buyers (email)': [sha('z@example.com')],
          'buyers (handle)': [],
          'buyers (device id)': [],
          'newsletter (email)': [Q_EMAIL],
          'newsletter (handle)': [H],
          'newsletter (device id)': [],
        });
      });
    });
  }
}

function dsrRequest(subjectRequestId: string): string {
  return JSON.stringify({
    type: 'dsr_processing_request',
    id: '5f0c1e2a-7b3d-4c8e-9a61-2d4f8b0e6c17',
    timestamp_ms: Date.now(),
    firehose_version: '3.3.0',
    account: { account_id: 123456, account_settings: { accountId: 'any' } },
    subject_request_id: subjectRequestId,
    subject_request_type: 'erasure',
    submitted_time: Date.now() / 1000,
    subject_identities: { email: { encoding: 'raw', value: P.email }, ios_advertising_id: { encoding: 'raw', value: P.ios_advertising_id } },
    api_version: '3.0',
    regulation: 'gdpr',
  });
}

async function sentAdds(t: TailorProcess): Promise<number> {
  let n = 0;
  for (const a of ['buyers', 'newsletter']) for (const d of Object.values(await t.downstreams(a))) n += (d as { sent_adds: number }).sent_adds;
  return n;
}

/**
 * Whether P's member key is anywhere in the database: SQLite's raw file bytes (the database, its
 * WAL and shared memory), or any row of a PostgreSQL table that holds member keys.
 */
async function memberKeyStored(t: TailorProcess, db: TestDatabase | undefined): Promise<boolean> {
  if (db === undefined) {
    // Stored as its 33 bytes (src/store/binary.ts); its text form is looked for too.
    const needles = [memberKeyBytes(P_KEY), Buffer.from(P_KEY)];
    return ['tailor.db', 'tailor.db-wal', 'tailor.db-shm', 'tailor.db-journal'].some((f) => {
      const path = join(t.dir, f);
      if (!existsSync(path)) return false;
      const bytes = readFileSync(path);
      return needles.some((n) => bytes.includes(n));
    });
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    for (const { table_name } of tables.rows) {
      // A row as text shows a bytea column as \\x and its hex: the key's bytes, or its text form.
      const r = await client.query(`SELECT 1 FROM "${table_name}" x WHERE strpos(x::text, $1) > 0 OR strpos(x::text, $2) > 0 LIMIT 1`, [
        memberKeyBytes(P_KEY).toString('hex'),
        P_KEY,
      ]);
      if ((r.rowCount ?? 0) > 0) return true;
    }
    return false;
  } finally {
    await client.end();
  }
}

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
      // The deletion commits before its log line reaches the pipe: wait for the line, not a moment.
      await waitFor('the pruning logged', async () => (tailor.logs.includes("X's data past its retention deleted") ? true : null), 10_000);

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

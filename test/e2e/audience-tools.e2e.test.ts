/**
 * The audience tools end to end (issue 18), a real `tailor serve` against the emulator, on SQLite
 * and on PostgreSQL: find a person, dry runs (REST and `tailor import --dry-run`, which leaves the
 * SQLite database file byte for byte as it was), a resync on demand, the cadence of a connection,
 * and the campaign guard on deleting an X audience.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../import/cli.ts';
import { createTestDatabase, type TestDatabase } from '../store/pg.ts';
import { Emu, TailorProcess, sha, waitFor } from './harness.ts';

const EMAIL_ONLY = { forward_twitter_handles: false, forward_device_ids: false };
const members = ['ann@example.com', 'bob@example.com', 'cid@example.com'];

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`audience tools end to end (${dialect})`, () => {
    let emu: Emu;
    let tailor: TailorProcess;
    let pg: TestDatabase | undefined;
    let accountId: string;
    let configId: string;
    let xId: string;

    const lastSeq = async (): Promise<number> => Number((await fetch(`${emu.url}/_emulator/requests?limit=0`)).headers.get('x-emulator-last-seq'));
    const callsSince = async (seq: number) => {
      const log = await emu.get<{ route: string; status: number; audience_id?: string; users?: number; path?: string }[] | { data: any[] }>(
        `/_emulator/requests?since=${seq}`,
      );
      return Array.isArray(log) ? log : log.data;
    };
    const onX = async (id: string): Promise<string[]> => ((await emu.members(accountId, id)).email ?? []).slice().sort();
    const start = async (dir?: string) => {
      tailor = await TailorProcess.start(emu, { ...(dir ? { dir } : {}), env: pg ? { TAILOR_DATABASE_URL: pg.url } : {} });
    };

    beforeAll(async () => {
      emu = await Emu.start();
      accountId = emu.admin().accountId;
      if (dialect === 'postgres') pg = await createTestDatabase();
      await start();
      configId = await tailor.addConfiguration(emu);
      await tailor.api('PUT', '/audiences/tools', { name: 'Tools' });
      await tailor.api('PUT', `/audiences/tools/connections/${configId}`, EMAIL_ONLY);
      expect((await tailor.api('POST', '/audiences/tools/members', { add: members.map((e) => ({ user_id: e, email: e })) })).status).toBe(202);
      const d = await waitFor('members on X', async () => {
        const down = (await tailor.downstreams('tools')).email;
        if (!down?.x_audience_id || down.pending !== 0) return undefined;
        return JSON.stringify(await onX(down.x_audience_id)) === JSON.stringify(members.map(sha).sort()) ? down : undefined;
      });
      xId = d.x_audience_id;
    });
    afterAll(async () => {
      await tailor?.stop();
      await pg?.drop();
      await emu?.close();
    });

    it('finds a person by raw or hashed identity, in each audience and X audience, and never logs the value', async () => {
      await tailor.api('PUT', '/audiences/elsewhere', { name: 'Elsewhere' }); // not connected
      await tailor.api('POST', '/audiences/elsewhere/members', { add: [{ email: members[0] }] });
      const raw = await tailor.api('POST', '/lookup', { email: ` ${members[0]!.toUpperCase()} ` });
      expect(raw.status).toBe(200);
      expect(raw.body.results).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            audience_id: 'tools',
            identity_type: 'email',
            x_audience_id: xId,
            state: 'on_x',
            in_audience: true,
            last_sent_at: expect.any(String),
          }),
          expect.objectContaining({ audience_id: 'elsewhere', state: 'not_forwarded', x_audience_id: null }),
        ]),
      );
      const hashed = await tailor.api('POST', '/lookup', { email: sha(members[1]!) });
      expect(hashed.body.results).toEqual([expect.objectContaining({ audience_id: 'tools', state: 'on_x' })]);
      expect((await tailor.api('POST', '/lookup', { email: 'nobody@example.com' })).body.results).toEqual([]);
      const bad = await tailor.api('POST', '/lookup', { email: 'not an email' });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).not.toContain('not an email');
      // A change waiting: pending_remove until the worker sends it.
      await tailor.api('POST', '/audiences/elsewhere/members', { remove: [{ email: members[0] }] });
      expect(tailor.logs.toLowerCase()).not.toContain(members[0]);
    });

    it('a dry run reports what would change and writes nothing (REST and tailor import --dry-run)', async () => {
      const before = await tailor.audience('tools');
      const dry = await tailor.api('POST', '/audiences/tools/members?dry_run=true', {
        add: [{ user_id: 'dan', email: 'dan@example.com' }, { user_id: members[0], email: members[0] }, { email: 'bad' }],
        remove: [{ user_id: members[2] }],
      });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({
        dry_run: true,
        changes: { email: { add: 1, remove: 1, already_present: 1, x_add: 1, x_remove: 1 } },
        rejected_by_reason: { invalid_email: 1 },
      });
      const after = await tailor.audience('tools');
      expect(after.members).toBe(before.members);
      expect(after.rejected_identities).toEqual(before.rejected_identities);
      expect(after.connections[0].downstream_audiences[0].pending).toBe(0);

      const file = join(tailor.dir, 'members.csv');
      writeFileSync(file, `user_id,email\ndan,dan@example.com\n${members[0]},${members[0]}\neve,not-an-email\n`);
      // The server stops, so that only the import could touch the database.
      const dir = tailor.dir;
      await tailor.stop({ keepDir: true });
      const fingerprint = (): string =>
        ['tailor.db', 'tailor.db-wal']
          .map((f) => join(dir, f))
          .map((p) => (existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'absent'))
          .join(' ');
      const files = fingerprint();
      const run = await runImport(tailor, [file, '--audience', 'tools', '--dry-run', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({ dry_run: true, rows: 3, accepted: 3, preview: { email: { add: 1, alreadyPresent: 1, xAdd: 1 } } });
      if (dialect === 'sqlite') expect(fingerprint()).toBe(files);
      await start(dir);
      const again = await tailor.audience('tools');
      expect(again.members).toBe(before.members);
      expect(again.rejected_identities).toEqual(before.rejected_identities);
      const human = await runImport(tailor, [file, '--audience', 'tools', '--dry-run']);
      expect(human.stdout).toContain('nothing was written');
    });

    it('a resync sends every hash X holds again as Updates, and shows its progress until done', async () => {
      const seq = await lastSeq();
      const before = (await tailor.downstreams('tools')).email;
      const res = await tailor.api('POST', `/audiences/tools/connections/${configId}/resync`);
      expect(res).toEqual({ status: 202, body: { resyncing_x_audiences: 1 } });
      const done = await waitFor('resync done', async () => {
        const d = (await tailor.downstreams('tools')).email;
        return d.resync === null && d.renewed >= before.renewed + 3 ? d : undefined;
      });
      expect(done.sent_removes).toBe(before.sent_removes);
      const calls = (await callsSince(seq)).filter((c) => c.route === 'POST custom_audience_users' && c.status === 200 && c.audience_id === xId);
      expect(calls.reduce((n, c) => n + (c.users ?? 0), 0)).toBe(3);
      expect(await onX(xId)).toEqual(members.map(sha).sort());
      expect((await tailor.api('POST', '/audiences/tools/connections/nope/resync')).status).toBe(404);
    });

    it('a cadence sends each X audience’s changes at most once per interval, and shows the next send', async () => {
      const put = await tailor.api('PUT', `/audiences/tools/connections/${configId}`, { ...EMAIL_ONLY, send_interval_minutes: 60 });
      expect(put.body.connections[0].send_interval_minutes).toBe(60);
      // The first send under the cadence goes as soon as it is due, and opens an hour's wait.
      await tailor.api('POST', '/audiences/tools/members', { add: [{ user_id: 'fay', email: 'fay@example.com' }] });
      const sent = await waitFor('first change sent', async () => {
        const d = (await tailor.downstreams('tools')).email;
        return d.pending === 0 && d.next_send_at ? d : undefined;
      });
      const next = Date.parse(sent.next_send_at);
      expect(next).toBeGreaterThan(Date.now() + 55 * 60_000);
      await tailor.api('POST', '/audiences/tools/members', { add: [{ user_id: 'gus', email: 'gus@example.com' }] });
      // The worker reads X's size every second: two reads later, the change still waits.
      const refreshed = (await tailor.downstreams('tools')).email.last_refreshed_at;
      await waitFor('two more looks at the X audience', async () => {
        const d = (await tailor.downstreams('tools')).email;
        return d.last_refreshed_at !== refreshed && Date.parse(d.last_refreshed_at) > Date.parse(refreshed) + 1000 ? d : undefined;
      });
      expect((await tailor.downstreams('tools')).email).toMatchObject({ pending: 1, next_send_at: sent.next_send_at });
      expect(await onX(xId)).not.toContain(sha('gus@example.com'));
      // Back to near real time: it goes.
      await tailor.api('PUT', `/audiences/tools/connections/${configId}`, { ...EMAIL_ONLY, send_interval_minutes: null });
      await waitFor('sent once near real time', async () => ((await onX(xId)).includes(sha('gus@example.com')) ? true : undefined));
      // Settled, nothing waits and no cadence: no next send to show.
      const settled = await waitFor('settled', async () => {
        const d = (await tailor.downstreams('tools')).email;
        return d.pending === 0 ? d : undefined;
      });
      expect(settled.next_send_at).toBeNull();
      expect((await tailor.api('PUT', `/audiences/tools/connections/${configId}`, { send_interval_minutes: 0 })).status).toBe(400);
    });

    it('deleting an X audience that active campaigns target waits, names them, and proceeds with force', async () => {
      await tailor.api('PUT', '/audiences/doomed', { name: 'Doomed' });
      await tailor.api('PUT', `/audiences/doomed/connections/${configId}`, EMAIL_ONLY);
      await tailor.api('POST', '/audiences/doomed/members', { add: [{ email: 'hal@example.com' }] });
      const d = await waitFor('doomed on X', async () => {
        const down = (await tailor.downstreams('doomed')).email;
        return down?.x_audience_id && down.pending === 0 && (await onX(down.x_audience_id)).length === 1 ? down : undefined;
      });
      const mark = await fetch(`${emu.url}/_emulator/accounts/${accountId}/custom_audiences/${d.x_audience_id}/campaigns`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ campaign_name: 'Spring sale', line_items: [{ name: 'Feed' }, { name: 'Paused one', active: false }] }),
      });
      expect(mark.status).toBe(201);
      const seq = await lastSeq();
      expect((await tailor.api('DELETE', '/audiences/doomed')).status).toBe(202);
      const waiting = await waitFor('deletion held back', async () => {
        const list = (await tailor.api('GET', '/deletions')).body.data;
        return list.find((x: any) => x.audience_id === 'doomed' && x.blocked_by);
      });
      expect(waiting).toMatchObject({
        x_audience_id: d.x_audience_id,
        force: false,
        blocked_by: [{ campaign_name: 'Spring sale', line_items: [{ name: 'Feed' }] }],
      });
      const calls = await callsSince(seq);
      expect(calls.some((c) => c.route === 'GET custom_audience targeted' && c.status === 200)).toBe(true);
      expect(calls.some((c) => c.route === 'DELETE custom_audience')).toBe(false);
      const xList = async () => (await emu.get<{ data: { id: string; deleted: boolean }[] }>(`/_emulator/accounts/${accountId}/custom_audiences`)).data;
      expect((await xList()).find((a) => a.id === d.x_audience_id)?.deleted).toBe(false);

      expect((await tailor.api('DELETE', '/audiences/doomed?force=true')).status).toBe(202);
      await waitFor('deleted on X', async () => ((await xList()).find((a) => a.id === d.x_audience_id)?.deleted ? true : undefined));
      await waitFor('no deletion waits', async () => ((await tailor.api('GET', '/deletions')).body.data.length === 0 ? true : undefined));
      expect((await tailor.api('DELETE', '/audiences/doomed?force=true')).status).toBe(404);
    });
  });
}

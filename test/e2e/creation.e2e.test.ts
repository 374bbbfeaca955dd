import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, sha, waitFor } from './harness.ts';

/** The web UI's words for states (browser code, untyped here). */
const words = (await import(new URL('../../src/ui/assets/words.js', import.meta.url).href)) as {
  STATE_WORDS: Record<string, string>;
  STATE_HELP: Record<string, string>;
};

/**
 * An X audience is created when its first member is due (issue 16; docs/reference/product.md,
 * "created on X the first time it is needed"), end to end: a real Tailor process, the emulator
 * over HTTP, and the emulator's list of audiences (deleted ones included) and its request log as
 * the judge of what reached X.
 */
describe('X audiences are created with their first member', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let configId: string;
  let accountId: string;

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    tailor = await TailorProcess.start(emu);
    configId = await tailor.addConfiguration(emu);
  });
  afterAll(async () => {
    await tailor?.stop();
    await emu?.close();
  });

  const onX = async (prefix: string) =>
    (await emu.audiences(accountId))
      .filter((a) => a.name.startsWith(prefix))
      .map((a) => a.name)
      .sort();
  const held = async (xId: string, type: string) => ((await emu.members(accountId, xId))[type] ?? []).slice().sort();
  /** X calls after `since` (the emulator's request log). */
  async function callsSince(since: number): Promise<{ route: string; audience_id: string | null; path: string }[]> {
    return emu.get(`/_emulator/requests?since=${since}`);
  }
  async function lastSeq(): Promise<number> {
    const res = await fetch(`${emu.url}/_emulator/requests?limit=0`);
    return Number(res.headers.get('x-emulator-last-seq'));
  }
  /** Waits until the downstream audience of `type` holds exactly `hashes` on X, nothing pending. */
  async function settled(id: string, type: string, hashes: string[]): Promise<any> {
    const want = JSON.stringify(hashes.slice().sort());
    return waitFor(`${id} ${type} to hold ${hashes.length} hashes on X`, async () => {
      const d = (await tailor.downstreams(id))[type];
      return d?.x_audience_id && d.pending === 0 && JSON.stringify(await held(d.x_audience_id, type)) === want ? d : undefined;
    });
  }

  it('e-mails only: only the e-mail X audience exists; a handle later creates the handle audience and fills it', async () => {
    expect((await tailor.api('PUT', '/audiences/first', { name: 'First' })).status).toBe(201);
    await tailor.client.connect('first', configId, { forward_emails: true, forward_twitter_handles: true, forward_device_ids: false });
    await tailor.client.changeMembers('first', {
      add: [
        { user_id: 'u1', email: 'one@example.com' },
        { user_id: 'u2', email: 'two@example.com' },
      ],
    });
    await settled('first', 'email', [sha('one@example.com'), sha('two@example.com')]);
    expect(await onX('First')).toEqual(['First (email)']);
    // The status says why there is no handle audience, and the UI's word for it says the same.
    const handle = (await tailor.downstreams('first')).handle;
    expect(handle).toMatchObject({ state: 'waiting_for_member', x_audience_id: null, name: null, pending: 0, next_send_at: null, needs_attention: false });
    expect(words.STATE_WORDS[handle.state]).toBe('Waiting for a first member');
    expect(words.STATE_HELP[handle.state]).toMatch(/creates this audience on X when it has the first member/);

    // Renamed while the handle audience waits: the e-mail audience follows on X, and the handle
    // audience is created under the new name.
    expect((await tailor.api('PUT', '/audiences/first', { name: 'First Renamed' })).status).toBe(200);
    await waitFor('the rename on X', async () => (await onX('First')).includes('First Renamed (email)'));
    expect((await tailor.downstreams('first')).handle.state).toBe('waiting_for_member');

    await tailor.client.changeMembers('first', { add: [{ user_id: 'u1', email: 'one@example.com', twitter_handle: '@OneHandle' }] });
    const created = await settled('first', 'handle', [sha('onehandle')]);
    expect(created).toMatchObject({ state: 'active', name: 'First Renamed (handle)', members: 1, sent_adds: 1 });
    expect(await onX('First')).toEqual(['First Renamed (email)', 'First Renamed (handle)']);
    await settled('first', 'email', [sha('one@example.com'), sha('two@example.com')]);
  });

  it('removing a connection, or deleting an audience, whose X audiences were never created calls X for nothing', async () => {
    expect((await tailor.api('PUT', '/audiences/never', { name: 'Never' })).status).toBe(201);
    await tailor.client.connect('never', configId, { forward_emails: true, forward_twitter_handles: true, forward_device_ids: true });
    const downs = await tailor.downstreams('never');
    expect(Object.values(downs).map((d: any) => [d.identity_type, d.state, d.x_audience_id])).toEqual([
      ['email', 'waiting_for_member', null],
      ['handle', 'waiting_for_member', null],
      ['device_id', 'waiting_for_member', null],
    ]);
    const since = await lastSeq();
    await tailor.client.disconnect('never', configId);
    expect((await tailor.audience('never')).other_downstream_audiences.map((d: any) => [d.state, d.x_audience_id])).toEqual([
      ['detached', null],
      ['detached', null],
      ['detached', null],
    ]);
    // A second audience connected the same way, deleted: nothing of it is on X to delete.
    expect((await tailor.api('PUT', '/audiences/never2', { name: 'Never Two' })).status).toBe(201);
    await tailor.client.connect('never2', configId, {});
    const del = await tailor.api('DELETE', '/audiences/never2');
    expect(del.status).toBe(202);
    expect(del.body.deleting_x_audiences).toEqual([]);
    expect((await tailor.api('GET', '/audiences/never2')).status).toBe(404);

    // Let the workers run: a later change of another audience goes to X and settles, so anything
    // they would have done for "never" and "never2" was claimed by then (claims go least recently
    // claimed first).
    await tailor.client.changeMembers('first', { add: [{ user_id: 'u3', email: 'three@example.com' }] });
    await settled('first', 'email', [sha('one@example.com'), sha('two@example.com'), sha('three@example.com')]);
    expect(await onX('Never')).toEqual([]);
    const calls = await callsSince(since);
    expect(calls.filter((c) => c.route === 'POST custom_audiences' || c.route === 'DELETE custom_audience' || c.route === 'GET custom_audiences')).toEqual([]);
    expect(calls.some((c) => c.route === 'POST custom_audience_users')).toBe(true);
  });
});

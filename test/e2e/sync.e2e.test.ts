import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, sha, waitFor } from './harness.ts';

/**
 * docs/reference/product.md section 2, end to end: a real Tailor process, the emulator over HTTP, and the
 * emulator's view of each X audience as the judge.
 */
describe('sync semantics end to end', () => {
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

  /** Creates an audience connected with the given toggles and waits for its X audiences to exist. */
  async function connected(id: string, name: string, toggles: Record<string, boolean> = {}): Promise<void> {
    expect((await tailor.api('PUT', `/audiences/${id}`, { name })).status).toBe(201);
    expect((await tailor.api('PUT', `/audiences/${id}/connections/${configId}`, toggles)).status).toBe(201);
  }

  async function xMembers(id: string, type: string): Promise<string[]> {
    const d = (await tailor.downstreams(id))[type];
    if (!d?.x_audience_id) return [];
    return ((await emu.members(accountId, d.x_audience_id))[type] ?? []).slice().sort();
  }

  async function settled(id: string, type: string, expected: string[]): Promise<void> {
    const want = expected.slice().sort();
    await waitFor(`${id} ${type} to hold ${want.length} hashes`, async () => {
      const d = (await tailor.downstreams(id))[type];
      return d?.pending === 0 && JSON.stringify(await xMembers(id, type)) === JSON.stringify(want);
    });
  }

  it('creates one X audience per identity type with mParticle names, normalizing and hashing', async () => {
    await connected('names', 'Spring Sale');
    const res = await tailor.client.changeMembers('names', {
      add: [{ user_id: 'u1', email: '  Jane.Doe@Example.COM ', twitter_handle: '@JaneDoe', ios_advertising_id: 'AEBE52E7-03EE-455A-B3C4-E57283966239' }],
    });
    expect(res.accepted).toEqual({ add: 1, remove: 0 });
    await settled('names', 'email', [sha('jane.doe@example.com')]);
    await settled('names', 'handle', [sha('janedoe')]);
    await settled('names', 'device_id', [sha('aebe52e7-03ee-455a-b3c4-e57283966239')]);
    const names = (await emu.audiences(accountId)).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['Spring Sale (email)', 'Spring Sale (handle)', 'Spring Sale (device id)']));
    const downs = await tailor.downstreams('names');
    expect(downs.email).toMatchObject({ name: 'Spring Sale (email)', state: 'active', members: 1, sent_adds: 1 });
  });

  it('passes digests through, drops a bad identifier with its reason and delivers the rest', async () => {
    await connected('mixed', 'Mixed');
    const digest = sha('prehashed@example.com').toUpperCase();
    const res = await tailor.client.changeMembers('mixed', {
      add: [
        { user_id: 'a', email: digest },
        { user_id: 'b', email: 'not-an-email', twitter_handle: 'good_handle' },
        { user_id: 'c', google_advertising_id: 'not-a-uuid' },
      ],
    });
    expect(res.rejected).toEqual([
      expect.objectContaining({ index: 1, field: 'email', reason: 'invalid_email' }),
      expect.objectContaining({ index: 2, field: 'google_advertising_id', reason: 'invalid_device_id' }),
    ]);
    expect(JSON.stringify(res)).not.toContain('not-an-email');
    await settled('mixed', 'email', [digest.toLowerCase()]);
    await settled('mixed', 'handle', [sha('good_handle')]);
    const view = await tailor.audience('mixed');
    expect(view.rejected_identities).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'invalid_email', count: 1 })]));
  });

  it('removes, follows identity changes, and keeps a shared device until its last holder leaves', async () => {
    await connected('family', 'Family');
    const ipad = '11111111-2222-3333-4444-555555555555';
    await tailor.client.changeMembers('family', {
      add: [
        { user_id: 'mom', email: 'mom@example.com', ios_advertising_id: ipad },
        { user_id: 'kid', email: 'kid@example.com', ios_advertising_id: ipad },
      ],
    });
    await settled('family', 'email', [sha('mom@example.com'), sha('kid@example.com')]);
    await settled('family', 'device_id', [sha(ipad)]);
    // Mom changes e-mail: the old hash leaves X. The kid leaves: the iPad stays, mom still has it.
    await tailor.client.changeMembers('family', {
      add: [{ user_id: 'mom', email: 'mom.new@example.com', ios_advertising_id: ipad }],
      remove: [{ user_id: 'kid' }],
    });
    await settled('family', 'email', [sha('mom.new@example.com')]);
    await settled('family', 'device_id', [sha(ipad)]);
    await tailor.client.changeMembers('family', { remove: [{ user_id: 'mom' }] });
    await settled('family', 'device_id', []);
    await settled('family', 'email', []);
  });

  it('coalesces flapping: add, remove, add within one flush sends the hash once', async () => {
    await connected('flap', 'Flap', { forward_twitter_handles: false, forward_device_ids: false });
    await tailor.client.changeMembers('flap', { add: [{ user_id: 'x', email: 'seed@example.com' }] });
    await settled('flap', 'email', [sha('seed@example.com')]);
    const before = (await tailor.downstreams('flap')).email;
    for (const body of [
      { add: [{ user_id: 'f', email: 'flap@example.com' }] },
      { remove: [{ user_id: 'f' }] },
      { add: [{ user_id: 'f', email: 'flap@example.com' }] },
    ]) {
      await tailor.client.changeMembers('flap', body);
    }
    await settled('flap', 'email', [sha('seed@example.com'), sha('flap@example.com')]);
    const after = (await tailor.downstreams('flap')).email;
    expect(after.sent_adds - before.sent_adds).toBe(1);
    expect(after.sent_removes - before.sent_removes).toBe(0);
  });

  it('Forward toggles: off detaches and keeps the X audience; on again re-sends current members', async () => {
    await connected('toggle', 'Toggle', { forward_device_ids: false });
    const idfa = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    await tailor.client.changeMembers('toggle', { add: [{ user_id: 'u', email: 'toggle@example.com', ios_advertising_id: idfa }] });
    await settled('toggle', 'email', [sha('toggle@example.com')]);
    expect((await tailor.downstreams('toggle')).device_id).toBeUndefined();

    await tailor.client.connect('toggle', configId, { forward_emails: false, forward_device_ids: true });
    await settled('toggle', 'device_id', [sha(idfa)]);
    const email = (await tailor.downstreams('toggle')).email;
    expect(email.state).toBe('detached');
    await tailor.client.changeMembers('toggle', { add: [{ user_id: 'v', email: 'later@example.com' }] });
    await settled('toggle', 'device_id', [sha(idfa)]);
    expect(await xMembers('toggle', 'email')).toEqual([sha('toggle@example.com')]); // detached: untouched
    expect((await emu.audiences(accountId)).find((a) => a.id === email.x_audience_id)?.deleted).toBe(false);

    await tailor.client.connect('toggle', configId, { forward_emails: true, forward_device_ids: true });
    await settled('toggle', 'email', [sha('toggle@example.com'), sha('later@example.com')]);
  });

  it('renames the X audiences with the audience, and deletes them with it', async () => {
    await connected('rename', 'Old Name', { forward_twitter_handles: false, forward_device_ids: false });
    await tailor.client.changeMembers('rename', { add: [{ user_id: 'u', email: 'r@example.com' }] });
    await settled('rename', 'email', [sha('r@example.com')]);
    expect((await tailor.api('PUT', '/audiences/rename', { name: 'New Name' })).status).toBe(200);
    await waitFor('rename on X', async () => (await emu.audiences(accountId)).some((a) => a.name === 'New Name (email)' && !a.deleted));
    // X answers the rename before Tailor records it: the deletion names the X audience as Tailor last saw it.
    await waitFor('rename recorded', async () => (await tailor.downstreams('rename')).email.name === 'New Name (email)');
    const xId = (await tailor.downstreams('rename')).email.x_audience_id as string;
    const del = await tailor.api('DELETE', '/audiences/rename');
    expect(del.status).toBe(202);
    expect(del.body.deleting_x_audiences).toEqual([{ x_audience_id: xId, name: 'New Name (email)' }]);
    await waitFor('deletion on X', async () => (await emu.audiences(accountId)).find((a) => a.id === xId)?.deleted === true);
  });

  it('picks the next free name when X refuses a used one', async () => {
    const { user } = emu.admin();
    const taken = await emu.signed(user, 'POST', `/12/accounts/${accountId}/custom_audiences?name=${encodeURIComponent('Taken (email)')}`);
    expect(taken.status).toBeLessThan(300);
    await connected('taken', 'Taken', { forward_twitter_handles: false, forward_device_ids: false });
    await tailor.client.changeMembers('taken', { add: [{ user_id: 'u', email: 't@example.com' }] });
    await settled('taken', 'email', [sha('t@example.com')]);
    expect((await tailor.downstreams('taken')).email.name).toBe('Taken (email) [2]');
  });

  it("reads X's size and targetability: TOO_SMALL under 100 matched users, targetable above", async () => {
    const population = await emu.get<{ email: string; active: boolean }[]>('/_emulator/population?limit=400');
    const active = population.filter((p) => p.active);
    await connected('big', 'Big', { forward_twitter_handles: false, forward_device_ids: false });
    await connected('small', 'Small', { forward_twitter_handles: false, forward_device_ids: false });
    await tailor.client.changeMembers('big', { add: active.slice(0, 150).map((p, i) => ({ user_id: `b${i}`, email: p.email })) });
    await tailor.client.changeMembers('small', { add: active.slice(150, 180).map((p, i) => ({ user_id: `s${i}`, email: p.email })) });
    await settled(
      'big',
      'email',
      active.slice(0, 150).map((p) => sha(p.email.toLowerCase())),
    );
    await settled(
      'small',
      'email',
      active.slice(150, 180).map((p) => sha(p.email.toLowerCase())),
    );
    await emu.post('/_emulator/sizing', {});
    const big = await waitFor('X size of Big', async () => {
      const d = (await tailor.downstreams('big')).email;
      return d.audience_size === 150 ? d : undefined;
    });
    expect(big).toMatchObject({ targetable: true, reasons_not_targetable: [], match_rate: 1 });
    const small = await waitFor('X verdict on Small', async () => {
      const d = (await tailor.downstreams('small')).email;
      return d.reasons_not_targetable.includes('TOO_SMALL') && !d.reasons_not_targetable.includes('PROCESSING') ? d : undefined;
    });
    expect(small).toMatchObject({ targetable: false, audience_size: null });
  });
});

/**
 * Paused, never dropped (issue 12), end to end: a real `tailor serve` and the X emulator over
 * HTTP. X revokes the token; Tailor pauses the configuration (`needs_reauth`). Firehose adds,
 * removes, an e-mail change, a rename and a new audience then arrive: every one is answered as
 * usual (no `suspend_subscription`, which would make mParticle drop them: it never sends again a
 * change answered 200), stored, and shown waiting. Someone logs in with X again (new tokens from
 * the emulator's OAuth flow, POST /api/v1/configurations); Tailor resumes on its own and X ends
 * up holding exactly the expected hashes, under the new name.
 *
 * Before this change the same messages were answered `suspend_subscription: true` and nothing was
 * stored, so the final X state would lack e6–e8 and a3's new address and still hold a1 and a2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XClient } from '../../src/x/client.ts';
import { Emu, TailorProcess, sha, waitFor } from '../e2e/harness.ts';

const TOKEN = 'e2e-firehose-token';
const MPARTICLE_ACCOUNT = 4711;

describe('Firehose while the X token is revoked, end to end', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let accountId: string;

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    tailor = await TailorProcess.start(emu, { env: { TAILOR_FIREHOSE_TOKEN: TOKEN } });
    await tailor.addConfiguration(emu);
  });
  afterAll(async () => {
    await tailor?.stop();
    await emu?.close();
  });

  async function firehose(body: Record<string, unknown>): Promise<{ status: number; body: any }> {
    const res = await fetch(`${tailor.url}/firehose`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Token ${TOKEN}` },
      body: JSON.stringify({
        id: crypto.randomUUID(),
        timestamp_ms: Date.now(),
        firehose_version: '3.2.0',
        account: { account_id: MPARTICLE_ACCOUNT, account_settings: { accountId } },
        ...body,
      }),
    });
    return { status: res.status, body: await res.json() };
  }

  const EMAIL_ONLY = { forwardEmails: 'true', forwardTwitterHandles: 'false', forwardDeviceIds: 'false' };
  const subscription = (audienceId: number, name: string, action: 'add' | 'update') =>
    firehose({ type: 'audience_subscription_request', audience_id: audienceId, audience_name: name, audience_subscription_settings: EMAIL_ONLY, action });
  const profile = (mpid: string, email: string | null, audienceId: number, action: 'add' | 'delete') => ({
    mpid,
    ...(email === null ? {} : { user_identities: [{ type: 'email', encoding: 'raw', value: email }] }),
    audiences: [{ audience_id: audienceId, audience_name: `Audience ${audienceId}`, audience_subscription_settings: EMAIL_ONLY, action }],
  });
  async function membership(profiles: unknown[]): Promise<void> {
    const res = await firehose({ type: 'audience_membership_change_request', user_profiles: profiles });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'audience_membership_change_response', suspend_subscription: false });
  }

  /** The e-mail X audience of an audience, once it is on X, as the emulator holds it. */
  async function onX(audienceId: string): Promise<{ name: string; hashes: string[] } | null> {
    const d = (await tailor.downstreams(audienceId)).email;
    if (!d?.x_audience_id) return null;
    const x = (await emu.audiences(accountId)).find((a) => a.id === d.x_audience_id && !a.deleted);
    if (!x) return null;
    return { name: x.name, hashes: ((await emu.members(accountId, x.id)).email ?? []).slice().sort() };
  }
  async function settled(audienceId: string, name: string, emails: string[]): Promise<void> {
    const want = JSON.stringify({ name, hashes: emails.map(sha).sort() });
    await waitFor(`audience ${audienceId} on X as "${name}" with ${emails.length} hashes`, async () => {
      const d = (await tailor.downstreams(audienceId)).email;
      return d?.state === 'active' && d.pending === 0 && JSON.stringify(await onX(audienceId)) === want;
    });
  }

  /** New tokens for the emulator's admin login, through X's three-legged OAuth flow. */
  async function logInAgain(): Promise<{ access_token: string; access_token_secret: string }> {
    const x = new XClient({ apiUrl: emu.url, oauthUrl: emu.url, app: { consumerKey: emu.creds.consumer_key, consumerSecret: emu.creds.consumer_secret } });
    const callback = 'http://127.0.0.1:1/callback';
    const rt = await x.requestToken(callback);
    const res = await fetch(`${emu.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ oauth_token: rt.oauthToken, user_id: emu.admin().user.user_id, action: 'authorize' }).toString(),
    });
    const verifier = new URL(res.headers.get('location')!).searchParams.get('oauth_verifier')!;
    const at = await x.accessToken(rt, verifier);
    return { access_token: at.accessToken, access_token_secret: at.accessTokenSecret };
  }

  it('stores and answers every change while paused, then delivers exactly them once re-authorized', async () => {
    const { user } = emu.admin();
    const e = (n: number | string) => `a${n}@example.com`;

    // Running: five members on X.
    expect((await subscription(4242, 'Loyal', 'add')).status).toBe(200);
    await membership([1, 2, 3, 4, 5].map((n) => profile(String(n), e(n), 4242, 'add')));
    await settled('4242', 'Loyal (email)', [1, 2, 3, 4, 5].map(e));

    // X revokes the token: the next batch meets a 401 and the configuration pauses.
    await emu.faults({ revoke_tokens: [user.access_token] });
    await membership([profile('6', e(6), 4242, 'add')]);
    await waitFor('the configuration to need re-authorization', async () => (await tailor.api('GET', '/configurations')).body.data[0].state === 'needs_reauth');

    // While paused: joins, leaves, a changed e-mail, a rename, and an audience Tailor has not seen.
    await membership([
      profile('7', e(7), 4242, 'add'),
      profile('8', e(8), 4242, 'add'),
      profile('1', null, 4242, 'delete'),
      profile('2', null, 4242, 'delete'),
    ]);
    await membership([profile('3', e('3-new'), 4242, 'add')]);
    const renamed = await subscription(4242, 'Loyal customers', 'update');
    expect(renamed.status).toBe(200);
    expect(renamed.body.type).toBe('audience_subscription_response');
    await membership([profile('9', e(9), 5151, 'add')]);

    // Every change waits, shown as such: paused, with the count of changes waiting.
    const d = (await tailor.downstreams('4242')).email;
    expect(d.state).toBe('paused');
    expect(d.pending).toBe(7); // + a6 a7 a8 a3-new, - a1 a2 a3
    const fresh = (await tailor.downstreams('5151')).email;
    expect(fresh).toMatchObject({ state: 'paused', pending: 1, x_audience_id: null });
    expect((await tailor.api('GET', '/firehose')).body.suspensions).toEqual([]);
    // Nothing reached X meanwhile.
    expect(await onX('4242')).toEqual({ name: 'Loyal (email)', hashes: [1, 2, 3, 4, 5].map(e).map(sha).sort() });

    // Someone logs in with X again: new tokens for the same account re-authorize it.
    const tokens = await logInAgain();
    expect(tokens.access_token).not.toBe(user.access_token);
    const again = await tailor.api('POST', '/configurations', { account_id: accountId, ...tokens });
    expect(again.status).toBe(200);
    expect(again.body.state).toBe('active');

    await settled('4242', 'Loyal customers (email)', [e('3-new'), e(4), e(5), e(6), e(7), e(8)]);
    await settled('5151', 'Audience 5151 (email)', [e(9)]);
    expect(tailor.logs).not.toContain('a7@example.com');
  });
});

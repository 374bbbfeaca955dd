import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/identity/index.ts';
import { ACCOUNT, fixture, forAccount, mpidKey, startInProcess, type Harness } from './helpers.ts';

const E1 = '86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d';
const H1 = '7618385caea382f562305468e586330381aae549829075b78dca7cb0d0aefac6';
const I1 = '3a2542fd4d30534ce489babedd79f57a61cc1979ea48d955c78ef1c4435b7513';
const G1 = '4928fa9070bea0b6c849d679d70f06f99a139257134583a15c411980eab27e41';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const load = (name: string) => forAccount(fixture(name), ACCOUNT);

describe('POST /firehose, in process', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startInProcess();
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers the registration request as the X output, asking for raw identities by default', async () => {
    const res = await h.post(fixture('registration-request.json'));
    expect(res.status).toBe(200);
    const expected = fixture('registration-response.json');
    expect(res.body).toMatchObject({ type: 'module_registration_response', firehose_version: '3.2.0', sdk_version: '3.2.0' });
    expect(res.body.id).toMatch(UUID);
    expect(res.body.id).not.toBe(fixture('registration-request.json').id);
    expect(typeof res.body.timestamp_ms).toBe('number');
    const p = res.body.permissions;
    expect(p.allow_access_mpid).toBe(true);
    expect(p.user_identities).toEqual([
      { type: 'email', encoding: 'raw', required: false },
      { type: 'twitter', encoding: 'raw', required: false },
      { type: 'mobile_number', encoding: 'raw', required: false },
      { type: 'phone_number_2', encoding: 'raw', required: false },
      { type: 'phone_number_3', encoding: 'raw', required: false },
    ]);
    expect(p.device_identities).toEqual([
      { type: 'ios_advertising_id', encoding: 'raw', required: false },
      { type: 'google_advertising_id', encoding: 'raw', required: false },
    ]);
    const reg = res.body.audience_processing_registration;
    expect(reg.account_settings).toEqual([expect.objectContaining({ type: 'text', id: 'accountId', name: 'Account ID', required: true })]);
    // Same setting ids, types and defaults as the fixture; descriptions name the downstream audiences.
    const shape = (s: any) => ({ type: s.type, id: s.id, name: s.name, default_value: s.default_value });
    expect(reg.audience_subscription_settings.map(shape)).toEqual(expected.audience_processing_registration.audience_subscription_settings.map(shape));
    expect(reg.audience_subscription_settings.map((s: any) => s.description)).toEqual([
      expect.stringContaining('"<Audience Name> (email)"'),
      expect.stringContaining('"<Audience Name> (handle)"'),
      expect.stringContaining('"<Audience Name> (device id)"'),
      expect.stringContaining('"<Audience Name> (phone)"'),
      expect.stringContaining('at most once per interval'),
    ]);
    // Phone numbers are sent only when someone turns them on.
    expect(reg.audience_subscription_settings.find((s: any) => s.id === 'forwardPhoneNumbers')).toMatchObject({ default_value: false, checked: false });
    expect(res.body.description.length).toBeLessThan(230);
  });

  it('subscription add, update and remove create, rename/toggle and delete the audience', async () => {
    const add = await h.post(load('subscription-add.json'));
    expect(add.status).toBe(200);
    expect(add.body).toMatchObject({
      type: 'audience_subscription_response',
      firehose_version: '3.2.0',
      audience_subscription_settings: { forwardEmails: 'true', forwardTwitterHandles: 'true', forwardDeviceIds: 'false' },
    });
    expect(add.body.id).toMatch(UUID);
    expect(await h.store.getAudience('7622')).toMatchObject({ name: 'Abandoned Cart' });
    expect(await h.store.listConnections('7622')).toEqual([
      expect.objectContaining({ configurationId: h.configuration.id, forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: false }),
    ]);
    expect(h.notified()).toBeGreaterThan(0);

    const update = await h.post(load('subscription-update.json'));
    expect(update.status).toBe(200);
    expect(update.body.audience_subscription_settings.forwardDeviceIds).toBe('true');
    expect(await h.store.getAudience('7622')).toMatchObject({ name: 'Abandoned Cart - 7 days' });
    expect((await h.store.listConnections('7622'))[0]).toMatchObject({ forwardDeviceIds: true });

    const remove = await h.post(load('subscription-remove.json'));
    expect(remove.status).toBe(200);
    expect(remove.body.type).toBe('audience_subscription_response');
    expect(await h.store.getAudience('7622')).toBeNull();
    // Removing again (mParticle retried) is answered the same way.
    expect((await h.post(load('subscription-remove.json'))).status).toBe(200);
  });

  it("remove never deletes another account's X audiences: with other connections, only this one goes", async () => {
    const other = await h.store.putConfiguration(
      { name: 'Other', accountId: 'acct0002', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
      Date.now(),
      'cli',
    );
    expect((await h.post(load('subscription-add.json'))).status).toBe(200);
    expect((await h.post(forAccount(fixture('subscription-add.json'), 'acct0002'))).status).toBe(200);
    expect(await h.store.listConnections('7622')).toHaveLength(2);

    expect((await h.post(load('subscription-remove.json'))).status).toBe(200);
    expect(await h.store.getAudience('7622')).not.toBeNull();
    expect((await h.store.listConnections('7622')).map((c) => c.configurationId)).toEqual([other.configuration.id]);

    expect((await h.post(forAccount(fixture('subscription-remove.json'), 'acct0002'))).status).toBe(200);
    expect(await h.store.getAudience('7622')).toBeNull();
  });

  it('absent settings mean every Forward toggle on', async () => {
    const msg = load('subscription-add.json');
    delete msg.audience_subscription_settings;
    const res = await h.post(msg);
    expect(res.status).toBe(200);
    expect(res.body.audience_subscription_settings).toBeUndefined();
    expect((await h.store.listConnections('7622'))[0]).toMatchObject({ forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true });
  });

  it('a subscription for an X account Tailor does not know is a 400 saying what to do', async () => {
    const res = await h.post(fixture('subscription-add.json'));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('no configuration for X ad account 18ce54d4x5t');
    expect(await h.store.getAudience('7622')).toBeNull();
  });

  it('membership changes land in the ledger with exact hashes, keyed by mpid as sent', async () => {
    await h.post(load('subscription-add.json'));
    const res = await h.post(load('membership-change.json'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      type: 'audience_membership_change_response',
      id: expect.stringMatching(UUID),
      timestamp_ms: expect.any(Number),
      firehose_version: '3.2.0',
      suspend_subscription: false,
    });
    const expected = [
      { identity_type: 'device_id', hash: G1 },
      { identity_type: 'device_id', hash: I1 },
      { identity_type: 'email', hash: E1 },
      { identity_type: 'handle', hash: H1 },
    ].map((r) => ({ audience_id: '7622', ...r, member_key: mpidKey('-1327484737295091692') }));
    expect(h.members('7622')).toEqual(expected.sort((a, b) => a.identity_type.localeCompare(b.identity_type) || a.hash.localeCompare(b.hash)));

    // The raw twin normalizes to exactly the same hashes: nothing changes.
    const before = h.snapshot();
    expect((await h.post(load('membership-change-raw.json'))).status).toBe(200);
    expect(h.snapshot().members).toEqual(before.members);
  });

  it('the legacy shape adds identity-keyed members and ignores removals from unknown audiences', async () => {
    const res = await h.post(load('legacy-membership-change.json'));
    expect(res.status).toBe(200);
    expect(res.body.firehose_version).toBe('3.2.0'); // the request had none
    expect(h.members()).toEqual([
      { audience_id: '7622', identity_type: 'device_id', hash: G1, member_key: `device_id:${G1}` },
      { audience_id: '7622', identity_type: 'email', hash: E1, member_key: `email:${E1}` },
    ]);
    // 7622 was unknown (no subscription seen): created and connected from the message.
    expect(await h.store.getAudience('7622')).toMatchObject({ name: 'Abandoned Cart - 7 days' });
    expect(await h.store.listConnections('7622')).toHaveLength(1);
    // 7590 only lost a member Tailor never had: not created.
    expect(await h.store.getAudience('7590')).toBeNull();
  });

  it('answers verification pings normally and stores nothing', async () => {
    const before = h.snapshot();
    const res = await h.post(load('verification-ping.json'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'audience_membership_change_response', firehose_version: '2.1.1', suspend_subscription: false });
    expect(h.snapshot()).toEqual(before);
  });

  it('rejects md5 and sha1 identities with a reason, keeps the rest of the profile', async () => {
    const msg = load('membership-change.json');
    const p = msg.user_profiles[0];
    p.user_identities[0] = { type: 'email', encoding: 'md5', value: 'c160f8cc69a4f0bf2b0362752353d060' };
    p.user_identities[1] = { type: 'twitter', encoding: 'sha1', value: 'f3d5e8c5b1a4b0a7a5e9a0b7c6d5e4f3a2b1c0d9' };
    const res = await h.post(msg);
    expect(res.status).toBe(200);
    expect(h.members('7622').map((r) => r.identity_type)).toEqual(['device_id', 'device_id']);
    expect(await h.store.listRejections('7622')).toEqual([expect.objectContaining({ reason: 'unsupported_encoding', count: 2 })]);
    const view = (await h.app.inject({ method: 'GET', url: '/api/v1/audiences/7622', headers: { authorization: 'Bearer admin-token-0123456789' } })).json();
    expect(view.rejected_identities).toEqual([expect.objectContaining({ reason: 'unsupported_encoding', count: 2 })]);
  });

  it('ignores identity types it did not register and attribute updates', async () => {
    const msg = load('membership-change.json');
    msg.user_profiles = [
      {
        mpid: '42',
        user_identities: [
          { type: 'customer', encoding: 'raw', value: 'cust-1' },
          { type: 'email', encoding: 'raw', value: 'A@B.example' },
        ],
        device_identities: [{ type: 'android_id', encoding: 'raw', value: 'abc' }],
        partner_identities: [{ type: 'Partner_Id', encoding: 'raw', value: 'p' }],
        audiences: [
          { audience_id: 7622, audience_name: 'Abandoned Cart', action: 'add' },
          { audience_id: 7623, audience_name: 'Attr', action: 'attribute_update', user_attributes: [{ key: 'k', value: 'v', action: 'upsert' }, {}] },
        ],
        unknown_field: { anything: true },
      },
    ];
    const res = await h.post(msg);
    expect(res.status).toBe(200);
    expect(h.members()).toEqual([{ audience_id: '7622', identity_type: 'email', hash: sha256Hex('a@b.example'), member_key: mpidKey('42') }]);
    expect(await h.store.getAudience('7623')).toBeNull();
  });

  it('a profile leaving takes out every hash its mpid contributed, and a shared hash stays', async () => {
    const join = (mpid: string, email: string) => ({
      mpid,
      user_identities: [{ type: 'email', encoding: 'raw', value: email }],
      audiences: [{ audience_id: 1, audience_name: 'One', action: 'add' }],
    });
    const msg = load('verification-ping.json');
    msg.user_profiles = [join('1', 'shared@example.com'), join('2', 'shared@example.com'), join('3', 'three@example.com')];
    expect((await h.post(msg)).status).toBe(200);
    msg.user_profiles = [
      { mpid: '1', audiences: [{ audience_id: 1, audience_name: 'One', action: 'delete' }] },
      { mpid: '3', audiences: [{ audience_id: 1, action: 'delete' }] },
    ];
    expect((await h.post(msg)).status).toBe(200);
    expect(h.members('1')).toEqual([{ audience_id: '1', identity_type: 'email', hash: sha256Hex('shared@example.com'), member_key: mpidKey('2') }]);
  });

  it('suspends, stores nothing, and shows why when the account is unknown', async () => {
    const before = h.snapshot();
    const unknown = await h.post(fixture('membership-change.json'));
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ type: 'audience_membership_change_response', suspend_subscription: true });
    expect((await h.post(fixture('verification-ping.json'))).body.suspend_subscription).toBe(true);
    expect(h.snapshot()).toEqual(before);

    const status = (await h.app.inject({ method: 'GET', url: '/api/v1/firehose', headers: { authorization: 'Bearer admin-token-0123456789' } })).json();
    expect(status.suspensions).toEqual([
      expect.objectContaining({ account_id: '18ce54d4x5t', reason: 'unknown_account', count: 2, message: expect.stringContaining('no configuration') }),
    ]);
    expect(status.suspensions_forgotten).toBe(0);
    expect(status.messages.audience_membership_change_request).toBe(2);
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/firehose' })).statusCode).toBe(401);
  });

  it('while the configuration needs re-authorization, stores every change and answers as usual (paused, never dropped)', async () => {
    await h.store.setConfigurationState(h.configuration.id, 'needs_reauth', 'X answered 401: token revoked', Date.now(), 'worker');
    expect((await h.post(load('subscription-add.json'))).status).toBe(200);
    const res = await h.post(load('membership-change.json'));
    expect(res.status).toBe(200);
    expect(res.body.suspend_subscription).toBe(false);
    expect((await h.post(load('verification-ping.json'))).body.suspend_subscription).toBe(false);
    expect(h.members('7622').length).toBeGreaterThan(0);

    // The changes wait for X, shown per downstream audience as paused with their count.
    const view = (await h.app.inject({ method: 'GET', url: '/api/v1/audiences/7622', headers: { authorization: 'Bearer admin-token-0123456789' } })).json();
    const downstreams = view.connections[0].downstream_audiences;
    expect(downstreams.length).toBeGreaterThan(0);
    for (const d of downstreams) expect(d.state).toBe('paused');
    const forwarded = new Set(downstreams.map((d: any) => d.identity_type));
    const waiting = new Set(
      h
        .members('7622')
        .filter((m) => forwarded.has(m.identity_type))
        .map((m) => `${m.identity_type}:${m.hash}`),
    );
    expect(waiting.size).toBeGreaterThan(0);
    expect(downstreams.reduce((n: number, d: any) => n + d.pending, 0)).toBe(waiting.size);
    const status = (await h.app.inject({ method: 'GET', url: '/api/v1/firehose', headers: { authorization: 'Bearer admin-token-0123456789' } })).json();
    expect(status.suspensions).toEqual([]);
  });

  it('answers 400 with a precise reason to anything else', async () => {
    const cases: [string, string | RegExp][] = [
      ['not json', /not valid JSON/],
      ['[]', /JSON object with a string "type"/],
      ['{"id":"x"}', /JSON object with a string "type"/],
      ['{"type":"event_processing_request","events":[]}', /unsupported message type "event_processing_request"/],
      ['{"type":"audience_processing_request"}', /unsupported message type/],
      ['{"type":"audience_membership_change_request"}', /account: is required/],
      ['{"type":"audience_membership_change_request","account":{"account_id":1}}', /account\.account_settings: is required/],
      ['{"type":"audience_membership_change_request","account":{"account_settings":{}}}', /account\.account_settings\.accountId: is required/],
      [JSON.stringify({ ...load('subscription-add.json'), action: 'delete' }), /action: must be add, update or remove/],
      [JSON.stringify({ ...load('subscription-add.json'), audience_name: undefined }), /audience_name: is required for action add/],
      [
        JSON.stringify({ ...load('subscription-add.json'), audience_subscription_settings: { forwardEmails: 'yes' } }),
        /audience_subscription_settings\.forwardEmails: must be "true" or "false"/,
      ],
    ];
    const before = h.snapshot();
    for (const [payload, reason] of cases) {
      const res = await h.postRaw(payload);
      expect(res.status, payload).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(reason);
    }
    expect(h.snapshot()).toEqual(before);
  });

  it('reads a body whatever its content type, within the body limit', async () => {
    const payload = JSON.stringify(fixture('registration-request.json'));
    for (const type of ['text/plain', 'application/json; charset=utf-8', 'application/octet-stream']) {
      const res = await h.app.inject({ method: 'POST', url: '/firehose', payload, headers: { 'content-type': type } });
      expect(res.statusCode, type).toBe(200);
    }
    const none = await h.app.inject({ method: 'POST', url: '/firehose', payload: Buffer.from(payload) });
    expect(none.statusCode).toBe(200);
  });
});

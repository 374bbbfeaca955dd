/**
 * Phone numbers end to end (issue 15), on both databases: REST, import and the Firehose into the
 * ledger, a real sync worker out to the X emulator. X holds exactly the expected E.164 digests in
 * `<Audience Name> (phone)` and nothing of the phones in the other audiences; an invalid number
 * is refused with its reason while the rest of its batch goes through; Forward Phone Numbers is
 * off unless asked for, and turning it off detaches, on re-sends the current members' numbers.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { importMembers } from '../../src/sources/import/run.ts';
import type { Store } from '../../src/store/port.ts';
import { RateGate } from '../../src/sync/rate.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import { Emu, sha, waitFor } from '../e2e/harness.ts';
import { testServices } from '../support/services.ts';
import { STORES } from '../store/helpers.ts';

const TOKEN = 'phone-test-admin-token-0123';
const auth = { authorization: `Bearer ${TOKEN}` };

interface DownstreamJson {
  identity_type: string;
  x_audience_id: string | null;
  name: string | null;
  state: string;
  pending: number;
  members: number;
}

describe.each(STORES)('phone numbers end to end ($name)', (factory) => {
  let emu: Emu;
  let store: Store;
  let cleanup: () => Promise<void>;
  let worker: SyncWorker;
  let app: FastifyInstance;
  let accountId: string;
  let configurationId: string;
  let services: ReturnType<typeof testServices>;

  const api = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
  };
  const firehose = async (body: unknown) => {
    const res = await app.inject({ method: 'POST', url: '/firehose', payload: body as object });
    expect(res.statusCode, res.body).toBe(200);
    return JSON.parse(res.body);
  };
  const downstreams = async (audienceId: string): Promise<Record<string, DownstreamJson>> => {
    const a = (await api('GET', `/api/v1/audiences/${audienceId}`)).body;
    return Object.fromEntries((a.connections[0]?.downstream_audiences ?? []).map((d: DownstreamJson) => [d.identity_type, d]));
  };
  /** What X holds for one downstream audience, per key, once Tailor has nothing pending for it. */
  const settled = async (audienceId: string, type: string, state = 'active'): Promise<Record<string, string[]>> => {
    return waitFor(`${audienceId} ${type} settled on X`, async () => {
      const d = (await downstreams(audienceId))[type];
      if (!d || d.state !== state || d.pending !== 0 || d.x_audience_id === null) return undefined;
      return emu.members(accountId, d.x_audience_id);
    });
  };
  /** The other X audiences of an audience hold no phone digest, under any key. */
  const noPhonesElsewhere = async (audienceId: string, phones: string[]) => {
    for (const [type, d] of Object.entries(await downstreams(audienceId))) {
      if (type === 'phone_number' || d.x_audience_id === null) continue;
      const held = Object.values(await emu.members(accountId, d.x_audience_id)).flat();
      for (const p of phones) expect(held, `${type} holds a phone digest`).not.toContain(p);
    }
  };

  beforeAll(async () => {
    emu = await Emu.start({ populationSize: 1000 });
    ({ store, cleanup } = await factory.open());
    const log = pino({ level: 'silent' });
    services = testServices(store, { emu, log, notify: () => worker.notify() });
    worker = new SyncWorker(
      {
        store,
        x: services.x,
        rate: new RateGate(store, { usersPerMinute: 10_000 }),
        box: services.box,
        log,
        now: Date.now,
        installationId: await store.installationId(),
      },
      { concurrency: 2, flushIntervalMs: 50, refreshIntervalMs: 60_000, xTimeoutMs: 5_000 },
    );
    app = await buildServer(services, { adminToken: TOKEN, firehoseToken: null });
    worker.start();
    const admin = emu.admin();
    accountId = admin.accountId;
    const config = await api('POST', '/api/v1/configurations', {
      account_id: accountId,
      access_token: admin.user.access_token,
      access_token_secret: admin.user.access_token_secret,
    });
    expect(config.status).toBe(201);
    configurationId = config.body.id;
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
    await cleanup?.();
    await emu?.close();
  });

  it('REST: every spelling of a number meets in one digest in (phone); an invalid number is refused alone', async () => {
    expect((await api('PUT', '/api/v1/audiences/rest', { name: 'Callers' })).status).toBe(201);
    // Left out, Forward Phone Numbers is off: no phone audience.
    const connected = await api('PUT', `/api/v1/audiences/rest/connections/${configurationId}`);
    expect(connected.status).toBe(201);
    expect(connected.body.connections[0]).toMatchObject({ forward_emails: true, forward_device_ids: true, forward_phone_numbers: false });
    expect(Object.keys(await downstreams('rest')).sort()).toEqual(['device_id', 'email', 'handle']);
    const on = await api('PUT', `/api/v1/audiences/rest/connections/${configurationId}`, { forward_phone_numbers: true });
    expect(on.status).toBe(200);
    expect(on.body.connections[0].forward_phone_numbers).toBe(true);

    const res = await api('POST', '/api/v1/audiences/rest/members', {
      add: [
        { user_id: 'u1', email: 'jane@example.com', phone_number: '(202) 555-0143' },
        { user_id: 'u2', phone_number: '+1 202-555-0143' }, // the same number, another person: one digest on X
        { user_id: 'u3', email: 'bob@example.com', phone_number: '202 555 014' }, // too short
        { user_id: 'u4', phone_number: '0044 20 7946 0958' },
        { phone_number: sha('+12025550199') }, // pre-hashed E.164 passes through
        { twitter_handle: '@nophone' },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toEqual({ add: 6, remove: 0 });
    expect(res.body.rejected).toEqual([{ list: 'add', index: 2, field: 'phone_number', reason: 'invalid_phone', message: expect.any(String) }]);
    expect(res.body.rejected[0].message).not.toContain('555');

    const phones = [sha('+12025550143'), sha('+442079460958'), sha('+12025550199')];
    const onX = await settled('rest', 'phone_number');
    expect(onX.phone_number!.sort()).toEqual([...phones].sort());
    expect(Object.entries(onX).filter(([k, v]) => k !== 'phone_number' && v.length > 0)).toEqual([]);
    expect((await settled('rest', 'email')).email!.sort()).toEqual([sha('bob@example.com'), sha('jane@example.com')].sort());
    await settled('rest', 'handle');
    await noPhonesElsewhere('rest', phones);
    const d = (await downstreams('rest')).phone_number!;
    expect(d).toMatchObject({ name: 'Callers (phone)', members: 3 });
    expect((await emu.audiences(accountId)).find((a) => a.id === d.x_audience_id)).toMatchObject({ name: 'Callers (phone)', deleted: false });

    // Metrics carry the fourth identity type as a label.
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/tailor_batches_sent_total\{identity_type="phone_number"\} [1-9]/);
    expect(metrics).toMatch(/tailor_pending_changes\{audience="rest",configuration="[^"]+",identity_type="phone_number"\} 0/);
    expect(metrics).toMatch(/tailor_changes_rejected_total\{source="rest",reason="invalid_phone"\} [1-9]/);

    // The status counts the refused number by its reason.
    const audience = (await api('GET', '/api/v1/audiences/rest')).body;
    expect(audience.rejected_identities).toEqual([expect.objectContaining({ reason: 'invalid_phone', count: 1 })]);

    // A shared number leaves X only with its last holder.
    await api('POST', '/api/v1/audiences/rest/members', { remove: [{ user_id: 'u1' }] });
    await waitFor('u1 removed', async () => (await downstreams('rest')).email?.members === 1 && (await downstreams('rest')).email?.pending === 0);
    expect((await settled('rest', 'phone_number')).phone_number!.sort()).toEqual([...phones].sort());
    await api('POST', '/api/v1/audiences/rest/members', { remove: [{ user_id: 'u2' }] });
    await waitFor('u2 removed', async () => (await downstreams('rest')).phone_number?.members === 2);
    expect((await settled('rest', 'phone_number')).phone_number!.sort()).toEqual([sha('+442079460958'), sha('+12025550199')].sort());
  });

  it('toggles: off detaches (X kept as it is), on sends the current members’ numbers', async () => {
    const off = await api('PUT', `/api/v1/audiences/rest/connections/${configurationId}`, { forward_phone_numbers: false });
    expect(off.body.connections[0].forward_phone_numbers).toBe(false);
    const before = await settled('rest', 'phone_number', 'detached');
    // Joins and leaves while off reach the ledger, not X.
    await api('POST', '/api/v1/audiences/rest/members', {
      add: [{ user_id: 'u5', phone_number: '(617) 555-0100', email: 'five@example.com' }],
      remove: [{ user_id: 'u4' }],
    });
    await waitFor('email sent while phones are off', async () => {
      const d = (await downstreams('rest')).email!;
      return d.pending === 0 && d.members === 2;
    });
    expect(await settled('rest', 'phone_number', 'detached')).toEqual(before);

    await api('PUT', `/api/v1/audiences/rest/connections/${configurationId}`, { forward_phone_numbers: true });
    const after = await settled('rest', 'phone_number');
    expect(after.phone_number!.sort()).toEqual([sha('+16175550100'), sha('+12025550199')].sort());
  });

  it('rename and delete carry the (phone) audience like the others', async () => {
    await api('PUT', '/api/v1/audiences/rest', { name: 'Dialers' });
    const id = (await downstreams('rest')).phone_number!.x_audience_id!;
    await waitFor('renamed on X', async () => (await emu.audiences(accountId)).find((a) => a.id === id)?.name === 'Dialers (phone)');
    expect((await api('DELETE', '/api/v1/audiences/rest')).status).toBe(202);
    await waitFor('deleted on X', async () => (await emu.audiences(accountId)).find((a) => a.id === id)?.deleted === true);
  });

  it('import: the phone_number column, an invalid number reported by line while the rest goes through', async () => {
    await api('PUT', '/api/v1/audiences/imported', { name: 'Imported' });
    await api('PUT', `/api/v1/audiences/imported/connections/${configurationId}`, {
      forward_phone_numbers: true,
      forward_twitter_handles: false,
      forward_device_ids: false,
    });
    const csv = [
      'user_id,email,phone_number',
      'i1,one@example.com,202.555.0177',
      'i2,,not a number',
      'i3,three@example.com,+44 (0)20 7946 0958',
      'i4,,001 202 555 0177',
      '',
    ].join('\n');
    const summary = await importMembers({
      store,
      memberKeys: services.memberKeys,
      phoneRegion: 'US',
      audienceId: 'imported',
      action: 'add',
      input: Readable.from([csv]),
      format: 'csv',
    });
    expect(summary).toMatchObject({ rows: 4, accepted: 4, rejectedRows: 0, reasons: { invalid_phone: 1 } });
    expect(summary.problems).toEqual([{ line: 3, reason: 'invalid_phone', field: 'phone_number', message: expect.any(String) }]);
    services.notify();
    const phones = [sha('+12025550177'), sha('+442079460958')];
    expect((await settled('imported', 'phone_number')).phone_number!.sort()).toEqual([...phones].sort());
    expect((await settled('imported', 'email')).email!.sort()).toEqual([sha('one@example.com'), sha('three@example.com')].sort());
    await noPhonesElsewhere('imported', phones);
  });

  it('Firehose: mobile_number, phone_number_2 and phone_number_3 when forwardPhoneNumbers is "true", none by default', async () => {
    const account = { account_id: 123456, account_settings: { accountId } };
    const envelope = (type: string) => ({ type, id: crypto.randomUUID(), timestamp_ms: Date.now(), firehose_version: '3.2.0', account });
    const profile = (mpid: string, phones: [string, string][], audienceId: number, settings: Record<string, string>, email?: string) => ({
      mpid,
      user_identities: [
        ...phones.map(([type, value]) => ({ type, encoding: 'raw', value })),
        ...(email ? [{ type: 'email', encoding: 'raw', value: email }] : []),
      ],
      audiences: [{ audience_id: audienceId, audience_name: `Firehose ${audienceId}`, audience_subscription_settings: settings, action: 'add' }],
    });
    const on = { forwardEmails: 'true', forwardTwitterHandles: 'true', forwardDeviceIds: 'true', forwardPhoneNumbers: 'true' };
    const sub = await firehose({
      ...envelope('audience_subscription_request'),
      audience_id: 9001,
      audience_name: 'Firehose 9001',
      audience_subscription_settings: on,
      action: 'add',
    });
    expect(sub.audience_subscription_settings).toMatchObject({ forwardPhoneNumbers: 'true' });
    const answer = await firehose({
      ...envelope('audience_membership_change_request'),
      user_profiles: [
        profile(
          '1001',
          [
            ['mobile_number', '(202) 555-0111'],
            ['phone_number_2', '+44 20 7946 0958'],
            ['phone_number_3', '001 617 555 0122'],
          ],
          9001,
          on,
          'fh1@example.com',
        ),
        profile('1002', [['mobile_number', '12']], 9001, on, 'fh2@example.com'), // invalid: the e-mail still goes
        profile('1003', [['mobile_number', '+1 202 555 0111']], 9001, on),
      ],
    });
    expect(answer.suspend_subscription).toBe(false);
    const phones = [sha('+12025550111'), sha('+442079460958'), sha('+16175550122')];
    expect((await settled('9001', 'phone_number')).phone_number!.sort()).toEqual([...phones].sort());
    expect((await settled('9001', 'email')).email!.sort()).toEqual([sha('fh1@example.com'), sha('fh2@example.com')].sort());
    await noPhonesElsewhere('9001', phones);
    expect((await api('GET', '/api/v1/audiences/9001')).body.rejected_identities).toEqual([expect.objectContaining({ reason: 'invalid_phone', count: 1 })]);

    // A membership change for an audience Tailor has not seen, with no phone setting: phones off.
    const defaults = { forwardEmails: 'true', forwardTwitterHandles: 'true', forwardDeviceIds: 'true' };
    await firehose({
      ...envelope('audience_membership_change_request'),
      user_profiles: [profile('1004', [['mobile_number', '(202) 555-0133']], 9002, defaults, 'fh4@example.com')],
    });
    expect((await settled('9002', 'email')).email).toEqual([sha('fh4@example.com')]);
    const conn = (await api('GET', '/api/v1/audiences/9002')).body.connections[0];
    expect(conn.forward_phone_numbers).toBe(false);
    expect(conn.downstream_audiences.map((d: DownstreamJson) => d.identity_type)).not.toContain('phone_number');
    await noPhonesElsewhere('9002', [sha('+12025550133')]);

    // The subscription update turns it on: the member's number already in the ledger is sent.
    await firehose({
      ...envelope('audience_subscription_request'),
      audience_id: 9002,
      audience_name: 'Firehose 9002',
      audience_subscription_settings: { ...defaults, forwardPhoneNumbers: 'true' },
      action: 'update',
    });
    expect((await settled('9002', 'phone_number')).phone_number).toEqual([sha('+12025550133')]);
  });
});

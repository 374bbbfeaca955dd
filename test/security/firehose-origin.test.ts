/**
 * A Firehose message acts only on audiences the Firehose created for that mParticle account
 * (issue 11). A REST audience with an mParticle-looking id, connected to the same configuration,
 * cannot be joined, renamed or deleted through `/firehose`; neither can another mParticle
 * account's audience. Each such message is answered as for an unknown audience, counted, and
 * logged without identifiers. Before the origin was recorded, every one of these writes went
 * through (the membership add landed in the ledger, the update renamed, the remove deleted).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/identity/index.ts';
import { parseMetrics, valueOf } from '../metrics/prometheus.ts';
import { ACCOUNT, fixture, forAccount, startInProcess, type Harness } from '../firehose/helpers.ts';

const ADMIN = { authorization: 'Bearer admin-token-0123456789' };
const load = (name: string) => forAccount(fixture(name), ACCOUNT);
const join = (audienceId: number, email: string, accountId = 123456) => ({
  ...load('verification-ping.json'),
  account: { account_id: accountId, account_settings: { accountId: ACCOUNT } },
  user_profiles: [
    {
      mpid: '42',
      user_identities: [{ type: 'email', encoding: 'raw', value: email }],
      audiences: [{ audience_id: audienceId, audience_name: 'Hijacked', action: 'add' }],
    },
  ],
});

describe('POST /firehose acts only on its own audiences', () => {
  let h: Harness;
  let lines: Record<string, unknown>[];
  beforeEach(async () => {
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    h = await startInProcess({ log: pino({ level: 'info' }, sink) });
  });
  afterEach(async () => {
    await h.close();
  });

  const api = async (method: 'GET' | 'PUT', url: string, payload?: unknown) => {
    const res = await h.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: ADMIN,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: res.statusCode, body: res.json() };
  };
  const foreignCount = async (message: string) =>
    valueOf(parseMetrics((await h.app.inject({ method: 'GET', url: '/metrics' })).body), 'tailor_firehose_foreign_audience_total', { message });

  it('cannot add members to, rename or delete a REST audience, even one connected to the same configuration', async () => {
    expect((await api('PUT', '/audiences/7622', { name: 'Loyal customers' })).status).toBe(201);
    expect((await api('PUT', `/audiences/7622/connections/${h.configuration.id}`, {})).status).toBeLessThan(300);
    const before = h.snapshot();
    const [m0, s0] = [await foreignCount('membership'), await foreignCount('subscription')];

    const add = await h.post(join(7622, 'intruder@example.com'));
    expect(add.status).toBe(200);
    expect(add.body).toMatchObject({ type: 'audience_membership_change_response', suspend_subscription: false });
    const update = await h.post(load('subscription-update.json'));
    expect(update.status).toBe(200);
    expect(update.body.type).toBe('audience_subscription_response');
    const add2 = await h.post(load('subscription-add.json'));
    expect(add2.status).toBe(200);
    const remove = await h.post(load('subscription-remove.json'));
    expect(remove.status).toBe(200);

    expect(h.snapshot()).toEqual(before);
    expect((await api('GET', '/audiences/7622')).body).toMatchObject({ name: 'Loyal customers', members: 0, origin: 'api' });
    expect(await foreignCount('membership')).toBe(m0 + 1);
    expect(await foreignCount('subscription')).toBe(s0 + 3);

    const warned = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('did not create'));
    expect(warned).toHaveLength(4);
    const text = JSON.stringify(warned);
    for (const id of ['7622', ACCOUNT, '123456', 'intruder', sha256Hex('intruder@example.com')]) expect(text).not.toContain(id);
  });

  it('cannot touch an audience another mParticle account created; its own account can, through either X output', async () => {
    expect((await h.post(join(500, 'first@example.com', 111))).status).toBe(200);
    expect(h.members('500')).toHaveLength(1);
    expect((await api('GET', '/audiences/500')).body).toMatchObject({ origin: 'firehose', name: 'Hijacked' });

    // Another mParticle account naming the same audience id: nothing changes.
    const before = h.snapshot();
    expect((await h.post(join(500, 'second@example.com', 222))).body.suspend_subscription).toBe(false);
    const rename = { ...load('subscription-update.json'), audience_id: 500, account: { account_id: 222, account_settings: { accountId: ACCOUNT } } };
    expect((await h.post(rename)).status).toBe(200);
    expect((await h.post({ ...rename, action: 'remove' })).status).toBe(200);
    expect(h.snapshot()).toEqual(before);

    // The creating account renames it, also through a second configuration (another X account).
    await h.store.putConfiguration(
      { name: 'Second', accountId: 'acct0002', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
      Date.now(),
      'cli',
    );
    const own = { ...rename, account: { account_id: 111, account_settings: { accountId: 'acct0002' } } };
    expect((await h.post(own)).status).toBe(200);
    expect((await api('GET', '/audiences/500')).body.name).toBe('Abandoned Cart - 7 days');
    expect((await h.store.listConnections('500')).length).toBe(2);
  });

  it('an import audience (created through REST, filled by tailor import) is out of reach too', async () => {
    // `tailor import` writes only into an audience that already exists, created by PUT /api/v1/audiences.
    expect((await api('PUT', '/audiences/31337', { name: 'Imported' })).status).toBe(201);
    await h.store.applyMemberChanges(
      '31337',
      [{ memberKey: 'u1', action: 'add', identities: [{ type: 'email', hash: sha256Hex('kept@example.com') }] }],
      Date.now(),
    );
    expect((await h.post(join(31337, 'intruder@example.com'))).status).toBe(200);
    expect(h.members('31337').map((m) => m.hash)).toEqual([sha256Hex('kept@example.com')]);
  });
});

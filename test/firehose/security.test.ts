import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, fixture, forAccount, startInProcess, type Harness } from './helpers.ts';

describe('POST /firehose with TAILOR_FIREHOSE_TOKEN set', () => {
  const TOKEN = 'mparticle-minted-token';
  let h: Harness;
  beforeAll(async () => {
    h = await startInProcess({ firehoseToken: TOKEN, firehoseEncoding: 'sha256' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('registration needs no token (mParticle asks before it has minted one)', async () => {
    const res = await h.post(fixture('registration-request.json'));
    expect(res.status).toBe(200);
    // TAILOR_FIREHOSE_ENCODING=sha256: every identity is asked for pre-hashed.
    const p = res.body.permissions;
    const identities = [...p.user_identities, ...p.device_identities];
    expect(identities).toHaveLength(7); // email, twitter, three phone types, two device ids
    expect(identities.map((i: any) => i.encoding)).toEqual(Array(7).fill('sha256'));
  });

  it('every other message needs Authorization: Token <token>; anything else is a 401 that stores nothing', async () => {
    const before = h.snapshot();
    const msg = forAccount(fixture('membership-change.json'), ACCOUNT);
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Bearer ${TOKEN}` },
      { authorization: 'Token wrong' },
      { authorization: `Token ${TOKEN}x` },
      { authorization: 'Token' },
    ]) {
      const res = await h.post(msg, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    // Malformed bodies from unauthenticated callers learn nothing about the schema.
    expect((await h.postRaw('{"type":"nope"}')).status).toBe(401);
    expect((await h.post(forAccount(fixture('subscription-add.json'), ACCOUNT))).status).toBe(401);
    expect(h.snapshot()).toEqual(before);

    const ok = await h.post(msg, { authorization: `Token ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.body.suspend_subscription).toBe(false);
    expect((await h.post(msg, { authorization: `token ${TOKEN}` })).status).toBe(200); // scheme is case-insensitive
  });
});

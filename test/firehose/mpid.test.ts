import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFirehoseJson, quoteMpidNumbers } from '../../src/sources/firehose/json.ts';
import { ACCOUNT, mpidKey, startInProcess, type Harness } from './helpers.ts';

describe('mpid is kept exactly as sent (keyed, never stored raw)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startInProcess();
  });
  afterAll(async () => {
    await h.close();
  });

  const message = (profiles: unknown[]) => ({
    type: 'audience_membership_change_request',
    id: 'x',
    account: { account_id: 1, account_settings: { accountId: ACCOUNT } },
    user_profiles: profiles,
  });
  const profile = (mpid: string, email: string, action: 'add' | 'delete') => ({
    mpid,
    user_identities: action === 'add' ? [{ type: 'email', encoding: 'raw', value: email }] : [],
    audiences: [{ audience_id: 9, audience_name: 'Precision', action }],
  });

  it.each([
    ['-1327484737295091692', '-1327484737295091690'],
    ['9223372036854775807', '9223372036854775806'],
    ['-9223372036854775808', '-9223372036854775807'],
  ])('%s and its neighbour %s stay two members (as JavaScript numbers they would be one)', async (a, b) => {
    expect(Number(a)).toBe(Number(b)); // the trap: both round to the same double
    expect((await h.post(message([profile(a, `${a}@example.com`, 'add'), profile(b, `${b}@example.com`, 'add')]))).status).toBe(200);
    expect(
      h
        .members('9')
        .map((r) => r.member_key)
        .sort(),
    ).toEqual([mpidKey(a), mpidKey(b)].sort());
    // A second message removing `a` by its mpid alone takes out exactly a's hash.
    expect((await h.post(message([profile(a, '', 'delete')]))).status).toBe(200);
    expect(h.members('9').map((r) => r.member_key)).toEqual([mpidKey(b)]);
    expect((await h.post(message([profile(b, '', 'delete')]))).status).toBe(200);
    expect(h.members('9')).toEqual([]);
  });

  it('an mpid sent as a bare JSON number is read digit for digit, not rounded', async () => {
    const raw = JSON.stringify(message([profile('MPID', 'big@example.com', 'add')])).replace('"MPID"', '9223372036854775807');
    expect(raw).toContain('"mpid":9223372036854775807');
    expect((await h.postRaw(raw)).status).toBe(200);
    expect(h.members('9').map((r) => r.member_key)).toEqual([mpidKey('9223372036854775807')]);
    const remove = JSON.stringify(message([profile('MPID', '', 'delete')])).replace('"MPID"', '9223372036854775807');
    expect((await h.postRaw(remove)).status).toBe(200);
    expect(h.members('9')).toEqual([]);
  });

  it.each([
    ['"12.5"', /mpid: must be a signed 64-bit integer/],
    ['12.5', /mpid: must be a string/],
    ['"9223372036854775808"', /outside the signed 64-bit range/],
    ['"abc"', /mpid: must be a signed 64-bit integer/],
    ['true', /mpid: must be a string/],
  ])('mpid %s is a 400 naming user_profiles[0].mpid', async (value, reason) => {
    const raw = JSON.stringify(message([profile('MPID', 'x@example.com', 'add')])).replace('"MPID"', value);
    const res = await h.postRaw(raw);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('user_profiles[0].mpid');
    expect(res.body.error.message).toMatch(reason);
  });
});

describe('quoteMpidNumbers', () => {
  it('quotes integer mpid values and nothing else', () => {
    expect(quoteMpidNumbers('{"mpid": -1327484737295091692, "n": 9223372036854775807}')).toBe('{"mpid": "-1327484737295091692", "n": 9223372036854775807}');
    expect(quoteMpidNumbers('[{"mpid":1},{"mpid":"2"},{"mpid":3.5}]')).toBe('[{"mpid":"1"},{"mpid":"2"},{"mpid":3.5}]');
  });

  it('leaves "mpid": inside string values alone, escapes included', () => {
    const text = JSON.stringify({ note: 'x "mpid": 123 \\"mpid\\":4', mpid: 'MP' }).replace('"MP"', '77');
    expect(parseFirehoseJson(text)).toEqual({ note: 'x "mpid": 123 \\"mpid\\":4', mpid: '77' });
  });

  it('never turns invalid JSON into valid JSON', () => {
    expect(() => parseFirehoseJson('{"mpid": 0123}')).toThrow();
    expect(() => parseFirehoseJson('{"mpid": 12 34}')).toThrow();
  });
});

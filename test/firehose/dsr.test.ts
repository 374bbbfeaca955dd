/**
 * `dsr_processing_request` in process (docs/privacy.md, spec section 21): the erasure is recorded
 * before the answer and once per subject_request_id; OpenDSR's android_advertising_id is the GAID;
 * types Tailor cannot match are ignored; other request types and malformed requests are refused
 * without recording anything. Never an identity in the answer or the logs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, fixture, forAccount, mpidKey, startInProcess, type Harness } from './helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const dsr = (over: Record<string, unknown> = {}) => ({ ...forAccount(fixture('dsr-erasure-request.json'), ACCOUNT), ...over });

describe('POST /firehose dsr_processing_request', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startInProcess();
  });
  afterEach(async () => h.close());

  async function join(mpid: string, identities: { type: string; value: string }[], device: { type: string; value: string }[] = []): Promise<void> {
    const res = await h.post(
      forAccount(
        {
          type: 'audience_membership_change_request',
          id: '00000000-0000-4000-8000-000000000001',
          timestamp_ms: 1,
          firehose_version: '3.2.0',
          account: { account_id: 1, account_settings: { accountId: ACCOUNT } },
          user_profiles: [
            {
              mpid,
              user_identities: identities.map((i) => ({ ...i, encoding: 'raw' })),
              device_identities: device.map((i) => ({ ...i, encoding: 'raw' })),
              audiences: [{ audience_id: 77, audience_name: 'Club', action: 'add' }],
            },
          ],
        },
        ACCOUNT,
      ),
    );
    expect(res.status).toBe(200);
  }

  it('erases the person found through the e-mail and IDFA, handle included, and answers the response envelope', async () => {
    await join(
      '1',
      [
        { type: 'email', value: 'jane.doe@example.com' },
        { type: 'twitter', value: '@janedoe' },
      ],
      [{ type: 'ios_advertising_id', value: '66b728c2-f9a4-4d87-82ef-ce07414fe3f7' }],
    );
    await join('2', [{ type: 'email', value: 'other@example.com' }]);
    expect(h.members('77').some((m) => m.member_key === mpidKey('1'))).toBe(true);

    const res = await h.post(dsr());
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(fixture('dsr-erasure-response.json')).sort());
    expect(res.body).toMatchObject({ type: 'dsr_processing_response', firehose_version: '3.3.0' });
    expect(res.body.id).toMatch(UUID);
    expect(h.members('77').map((m) => m.member_key)).toEqual([mpidKey('2')]);
    const [erasure] = await h.store.listErasures(10);
    expect(erasure).toMatchObject({ source: 'firehose', membersErased: 1 });
    expect(await h.store.suppressedAmong([{ type: 'handle', hash: '7618385caea382f562305468e586330381aae549829075b78dca7cb0d0aefac6' }])).toHaveLength(1);

    // mParticle retries: the same subject_request_id is the same erasure.
    expect((await h.post(dsr({ id: '00000000-0000-4000-8000-000000000009' }))).status).toBe(200);
    expect(await h.store.listErasures(10)).toEqual([erasure]);
    // Another request is another erasure.
    expect((await h.post(dsr({ subject_request_id: 'c0ffee00-0000-4000-8000-000000000000' }))).status).toBe(200);
    expect(await h.store.listErasures(10)).toHaveLength(2);
  });

  it('takes android_advertising_id as the GAID and ignores identity types it cannot match', async () => {
    await join('3', [{ type: 'email', value: 'g@example.com' }], [{ type: 'google_advertising_id', value: '31a22ef0-f119-48d4-b009-a217a26a862a' }]);
    const res = await h.post(
      dsr({
        subject_identities: {
          android_advertising_id: { encoding: 'raw', value: '31A22EF0-F119-48D4-B009-A217A26A862A' },
          controller_customer_id: { encoding: 'raw', value: 'cust-1' },
          roku_advertising_id: { encoding: 'raw', value: 'r' },
        },
      }),
    );
    expect(res.status).toBe(200);
    expect(h.members('77')).toEqual([]);
  });

  it('refuses other request types and malformed requests, recording nothing', async () => {
    const before = h.snapshot();
    for (const [body, message] of [
      [dsr({ subject_request_type: 'access' }), /subject_request_type: Tailor supports erasure only/],
      [dsr({ subject_request_id: undefined }), /subject_request_id/],
      [dsr({ subject_identities: { email: { encoding: 'raw', value: 7 } } }), /subject_identities/],
    ] as const) {
      const res = await h.post(body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
      expect(JSON.stringify(res.body)).not.toContain('Jane.Doe');
    }
    expect(await h.store.listErasures(10)).toEqual([]);
    expect(h.snapshot()).toEqual(before);
  });
});

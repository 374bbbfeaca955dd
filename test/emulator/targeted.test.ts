/**
 * GET accounts/:account_id/custom_audiences/:id/targeted (docs/reference/x-ads-api.md 2.8) and the
 * back door that marks an audience as targeted by a campaign, over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bench, boot, call, createAudience } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

const targeted = (id: string, query: Record<string, string> = {}) =>
  call(bench, 'GET', `/12/accounts/${bench.account}/custom_audiences/${id}/targeted`, { token: bench.adminToken, query });
const mark = (id: string, body: unknown) =>
  fetch(`${bench.url}/_emulator/accounts/${bench.account}/custom_audiences/${id}/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('targeted', () => {
  it('lists no campaign for a fresh audience', async () => {
    const id = await createAudience(bench, 'untargeted');
    const res = await targeted(id, { with_active: 'true' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ data: [], next_cursor: null });
  });

  it('lists the campaigns the back door set, only active line items with with_active=true', async () => {
    const id = await createAudience(bench, 'targeted one');
    expect(
      (
        await mark(id, {
          campaign_id: 'c1',
          campaign_name: 'Spring',
          line_items: [
            { id: 'l1', name: 'Feed' },
            { id: 'l2', name: 'Old', active: false },
          ],
        })
      ).status,
    ).toBe(201);
    expect((await mark(id, { campaign_id: 'c2', campaign_name: 'Ended', line_items: [{ id: 'l3', name: 'Done', active: false }] })).status).toBe(201);
    const all = await targeted(id);
    expect(all.body.data).toEqual([
      {
        campaign_id: 'c1',
        campaign_name: 'Spring',
        line_items: [
          { id: 'l1', name: 'Feed', servable: true },
          { id: 'l2', name: 'Old', servable: true },
        ],
      },
      { campaign_id: 'c2', campaign_name: 'Ended', line_items: [{ id: 'l3', name: 'Done', servable: true }] },
    ]);
    const active = await targeted(id, { with_active: 'true' });
    expect(active.body.data).toEqual([{ campaign_id: 'c1', campaign_name: 'Spring', line_items: [{ id: 'l1', name: 'Feed', servable: true }] }]);
    // The campaigns end: none left.
    const ended = await fetch(`${bench.url}/_emulator/accounts/${bench.account}/custom_audiences/${id}/campaigns`, { method: 'DELETE' });
    expect(ended.status).toBe(204);
    expect((await targeted(id, { with_active: 'true' })).body.data).toEqual([]);
  });

  it('refuses a bad with_active, an unknown audience, and a bad back-door body', async () => {
    const id = await createAudience(bench, 'targeted two');
    expect((await targeted(id, { with_active: 'yes' })).status).toBe(400);
    expect((await targeted('zzzzz')).status).toBe(404);
    expect((await mark(id, { line_items: [] })).status).toBe(400);
    expect((await mark('zzzzz', { campaign_name: 'x', line_items: [] })).status).toBe(404);
  });
});

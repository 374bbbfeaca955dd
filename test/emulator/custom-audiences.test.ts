/** Custom audience CRUD (docs/reference/x-ads-api.md 2.3-2.7): shapes, names, pagination, not-found paths. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bench, boot, call, createAudience, tokenOf } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

const list = (query: Record<string, string> = {}, account = bench.account) =>
  call(bench, 'GET', `/12/accounts/${account}/custom_audiences`, { token: bench.adminToken, query });
const one = (id: string, query: Record<string, string> = {}, account = bench.account) =>
  call(bench, 'GET', `/12/accounts/${account}/custom_audiences/${id}`, { token: bench.adminToken, query });

describe('create', () => {
  it('creates an empty CRM audience with X’s fields', async () => {
    const res = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, {
      token: bench.adminToken,
      query: { name: 'developers', description: 'marker:abc' },
    });
    expect(res.status).toBe(201);
    expect(res.body.request).toEqual({ params: { account_id: bench.account, name: 'developers', description: 'marker:abc' } });
    const a = res.body.data;
    expect(a).toEqual({
      targetable: false,
      name: 'developers',
      targetable_types: ['CRM', 'EXCLUDED_CRM'],
      audience_type: 'CRM',
      description: 'marker:abc',
      permission_level: 'READ_WRITE',
      owner_account_id: bench.account,
      is_owner: true,
      id: expect.stringMatching(/^[0-9a-z]{5,6}$/),
      reasons_not_targetable: ['PROCESSING', 'TOO_SMALL'],
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      updated_at: a.created_at,
      partner_source: 'OTHER',
      deleted: false,
      audience_size: null,
    });
    expect((await one(a.id)).body.data).toEqual(a);
  });

  it('takes the name from a form body too, and description defaults to null', async () => {
    const res = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken, form: { name: 'from form' } });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ name: 'from form', description: null });
  });

  it('requires a name', async () => {
    const res = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ code: 'MISSING_PARAMETER', message: expect.any(String), parameter: 'name' }]);
    expect(res.body.request).toEqual({ params: { account_id: bench.account } });
  });

  it('rejects a duplicate name, and a name once used by a deleted audience', async () => {
    const id = await createAudience(bench, 'dup');
    const dup = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken, query: { name: 'dup' } });
    expect(dup.status).toBe(400);
    expect(dup.body.errors[0]).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'name', message: expect.stringContaining('already') });

    const del = await call(bench, 'DELETE', `/12/accounts/${bench.account}/custom_audiences/${id}`, { token: bench.adminToken });
    expect(del.status).toBe(200);
    const reused = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken, query: { name: 'dup' } });
    expect(reused.status).toBe(400);
    expect(reused.body.errors[0]).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'name' });

    // Names are per account: the second account may use it.
    expect(await createAudience(bench, 'dup', bench.secondAccount)).toEqual(expect.any(String));
  });

  it('lets only writers create: the analyst gets 403', async () => {
    const analystAccount = bench.analyst.accounts[0]!.id;
    const res = await call(bench, 'POST', `/12/accounts/${analystAccount}/custom_audiences`, { token: tokenOf(bench.analyst), query: { name: 'nope' } });
    expect(res.status).toBe(403);
    expect(res.body.errors[0].code).toBe('ACTION_NOT_ALLOWED');
    const manager = await call(bench, 'POST', `/12/accounts/${bench.manager.accounts[0]!.id}/custom_audiences`, {
      token: tokenOf(bench.manager),
      query: { name: 'by manager' },
    });
    expect(manager.status).toBe(201);
    // The analyst can read.
    const read = await call(bench, 'GET', `/12/accounts/${analystAccount}/custom_audiences`, { token: tokenOf(bench.analyst) });
    expect(read.status).toBe(200);
  });

  it('answers 403 ACCOUNT_NOT_FOUND for an account out of reach', async () => {
    const res = await call(bench, 'POST', `/12/accounts/${bench.foreignAccount}/custom_audiences`, { token: bench.adminToken, query: { name: 'x' } });
    expect(res.status).toBe(403);
    expect(res.body.errors[0].code).toBe('ACCOUNT_NOT_FOUND');
  });
});

describe('update', () => {
  it('renames and describes; only fields sent change; empty description unsets', async () => {
    const id = await createAudience(bench, 'to-rename');
    const path = `/12/accounts/${bench.account}/custom_audiences/${id}`;
    const renamed = await call(bench, 'PUT', path, { token: bench.adminToken, query: { name: 'renamed' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ id, name: 'renamed', description: null });
    expect(renamed.body.request.params).toEqual({ account_id: bench.account, custom_audience_id: id, name: 'renamed' });
    const described = await call(bench, 'PUT', path, { token: bench.adminToken, form: { description: 'hello' } });
    expect(described.body.data).toMatchObject({ name: 'renamed', description: 'hello' });
    const unset = await call(bench, 'PUT', path, { token: bench.adminToken, query: { description: '' } });
    expect(unset.body.data.description).toBeNull();
    // Same name again is not a conflict.
    expect((await call(bench, 'PUT', path, { token: bench.adminToken, query: { name: 'renamed' } })).status).toBe(200);
  });

  it('keeps the old name used, and rejects a name taken by another audience', async () => {
    const a = await createAudience(bench, 'old-name');
    await createAudience(bench, 'taken');
    await call(bench, 'PUT', `/12/accounts/${bench.account}/custom_audiences/${a}`, { token: bench.adminToken, query: { name: 'new-name' } });
    const reuseOld = await call(bench, 'POST', `/12/accounts/${bench.account}/custom_audiences`, { token: bench.adminToken, query: { name: 'old-name' } });
    expect(reuseOld.status).toBe(400);
    const taken = await call(bench, 'PUT', `/12/accounts/${bench.account}/custom_audiences/${a}`, { token: bench.adminToken, query: { name: 'taken' } });
    expect(taken.status).toBe(400);
    expect(taken.body.errors[0]).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'name' });
  });
});

describe('get and delete', () => {
  it('deletes: returns deleted: true, then 404 unless with_deleted', async () => {
    const id = await createAudience(bench, 'to-delete');
    const path = `/12/accounts/${bench.account}/custom_audiences/${id}`;
    const del = await call(bench, 'DELETE', path, { token: bench.adminToken });
    expect(del.status).toBe(200);
    expect(del.body.data).toMatchObject({ id, deleted: true, audience_size: null });
    const gone = await one(id);
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].code).toBe('NOT_FOUND');
    const withDeleted = await one(id, { with_deleted: 'true' });
    expect(withDeleted.status).toBe(200);
    expect(withDeleted.body.data.deleted).toBe(true);
    expect(withDeleted.body.request.params).toEqual({ account_id: bench.account, custom_audience_id: id, with_deleted: 'true' });
    expect((await call(bench, 'DELETE', path, { token: bench.adminToken })).status).toBe(404);
    expect((await call(bench, 'PUT', path, { token: bench.adminToken, query: { name: 'zombie' } })).status).toBe(404);
  });

  it('answers 404 NOT_FOUND for an unknown audience and for another account’s audience', async () => {
    const unknown = await one('zzzzz');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      errors: [{ code: 'NOT_FOUND', message: expect.any(String), parameter: 'custom_audience_id' }],
      request: { params: { account_id: bench.account, custom_audience_id: 'zzzzz' } },
    });
    const elsewhere = await createAudience(bench, 'in second account', bench.secondAccount);
    expect((await one(elsewhere)).status).toBe(404);
    expect((await one(elsewhere, {}, bench.secondAccount)).status).toBe(200);
    const viaOther = await call(bench, 'DELETE', `/12/accounts/${bench.account}/custom_audiences/${elsewhere}`, { token: bench.adminToken });
    expect(viaOther.status).toBe(404);
  });
});

describe('list', () => {
  it('pages with count and next_cursor, in creation order, without losing or repeating any', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const name of names) await createAudience(bench, name);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const res = await list({ q: 'page-', count: '3', ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((a: { name: string }) => a.name));
      cursor = res.body.next_cursor ?? undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual(names);
    const last = await list({ q: 'page-', count: '7' });
    expect(last.body.next_cursor).toBeNull();
    const desc = await list({ q: 'page-', sort_by: 'created_at-desc', count: '2' });
    expect(desc.body.data.map((a: { name: string }) => a.name)).toEqual(['page-6', 'page-5']);
  });

  it('defaults count to 200 and bounds it to 1..1000', async () => {
    for (const count of ['0', '1001', 'ten']) {
      const res = await list({ count });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'count' });
    }
    expect((await list({ count: '1000' })).status).toBe(200);
    const bad = await list({ cursor: 'not-a-cursor' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].parameter).toBe('cursor');
  });

  it('filters by case-insensitive name prefix, ids and with_deleted', async () => {
    const a = await createAudience(bench, 'Filter Alpha');
    const b = await createAudience(bench, 'filter beta');
    await createAudience(bench, 'other filter');
    await call(bench, 'DELETE', `/12/accounts/${bench.account}/custom_audiences/${b}`, { token: bench.adminToken });
    const q = await list({ q: 'FILTER' });
    expect(q.body.data.map((x: { id: string }) => x.id)).toEqual([a]);
    const withDeleted = await list({ q: 'filter', with_deleted: 'true' });
    expect(withDeleted.body.data.map((x: { id: string }) => x.id)).toEqual([a, b]);
    const ids = await list({ custom_audience_ids: `${b},${a}`, with_deleted: 'true' });
    expect(ids.body.data.map((x: { id: string }) => x.id)).toEqual([a, b]);
    expect(ids.body.request.params).toEqual({ account_id: bench.account, custom_audience_ids: [b, a], with_deleted: 'true' });
  });

  it('reports total_count on request, never together with cursor', async () => {
    const res = await list({ with_total_count: 'true', q: 'page-' });
    expect(res.body.total_count).toBe(7);
    const both = await list({ with_total_count: 'true', cursor: 'abc' });
    expect(both.status).toBe(400);
    expect(both.body.errors[0].code).toBe('EXCLUSIVE_PARAMETERS');
  });

  it('lists only the account’s own audiences', async () => {
    const mine = (await list()).body.data.map((a: { owner_account_id: string }) => a.owner_account_id);
    expect(new Set(mine)).toEqual(new Set([bench.account]));
  });
});

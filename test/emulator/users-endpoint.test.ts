/** POST …/custom_audiences/:id/users (docs/reference/x-ads-api.md 3): format, limits, atomic validation, effect. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backdoor, type Bench, boot, call, createAudience, sha256, tokenOf, usersPath, type Json } from './helpers.ts';
import { waitFor } from '../support/wait.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

const h = (s: string) => sha256(s);
const post = (id: string, json: unknown, account = bench.account) => call(bench, 'POST', usersPath(bench, id, account), { token: bench.adminToken, json });
const members = async (id: string, account = bench.account): Promise<Json> =>
  (await backdoor(bench, 'GET', `/_emulator/accounts/${account}/custom_audiences/${id}/members`)).body;

describe('success', () => {
  it('counts user objects, not operations, and applies Updates and Deletes', async () => {
    const id = await createAudience(bench, 'users-basic');
    const res = await post(id, [
      {
        operation_type: 'Update',
        params: {
          users: [
            { email: [h('a@x.com')], handle: [h('jack'), h('adsapi')] },
            { email: [h('b@x.com')], twitter_id: [h('143567')] },
          ],
        },
      },
      { operation_type: 'Update', params: { users: [{ device_id: [h('4b61639e-47cc-4056-a16a-c8217e029462')] }, { partner_user_id: ['crm-42'] }] } },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: { success_count: 4, total_count: 4 },
      request: { params: { account_id: bench.account, custom_audience_id: id } },
    });
    expect(res.headers.get('x-current-api-version')).toBe('12');
    expect(await members(id)).toEqual({
      email: [h('a@x.com'), h('b@x.com')].sort(),
      handle: [h('jack'), h('adsapi')].sort(),
      device_id: [h('4b61639e-47cc-4056-a16a-c8217e029462')],
      twitter_id: [h('143567')],
      phone_number: [],
      partner_user_id: ['crm-42'],
    });

    const mixed = await post(id, [
      { operation_type: 'Delete', params: { users: [{ email: [h('a@x.com')], handle: [h('jack')] }] } },
      { operation_type: 'Update', params: { users: [{ email: [h('c@x.com')] }] } },
    ]);
    expect(mixed.body.data).toEqual({ success_count: 2, total_count: 2 });
    const now = await members(id);
    expect(now.email).toEqual([h('b@x.com'), h('c@x.com')].sort());
    expect(now.handle).toEqual([h('adsapi')]);
    // Deleting what is not there is harmless; re-sending an Update is too.
    expect((await post(id, [{ operation_type: 'Delete', params: { users: [{ email: [h('nobody@x.com')] }] } }])).status).toBe(200);
    expect((await post(id, [{ operation_type: 'Update', params: { users: [{ email: [h('c@x.com')] }] } }])).status).toBe(200);
    expect((await members(id)).email).toEqual([h('b@x.com'), h('c@x.com')].sort());
  });

  it('accepts application/json with a charset, and logs operations, users and bytes', async () => {
    const id = await createAudience(bench, 'users-log');
    const since = Number((await fetch(`${bench.url}/_emulator/requests?limit=0`)).headers.get('x-emulator-last-seq'));
    const json = [
      { operation_type: 'Update', params: { users: [{ email: [h('1')] }, { email: [h('2')] }] } },
      { operation_type: 'Delete', params: { users: [{ email: [h('3')] }] } },
    ];
    const body = JSON.stringify(json);
    const res = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, raw: { body, contentType: 'application/json; charset=utf-8' } });
    expect(res.status).toBe(200);
    const log = (await backdoor(bench, 'GET', `/_emulator/requests?since=${since}`)).body;
    expect(log).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: usersPath(bench, id),
        route: 'POST custom_audience_users',
        status: 200,
        account_id: bench.account,
        audience_id: id,
        operations: 2,
        users: 3,
        bytes: Buffer.byteLength(body),
        token: bench.adminToken.key,
        rate_limit_reset: expect.any(Number),
        at: expect.any(Number),
        seq: since + 1,
      }),
    ]);
  });
});

describe('transport errors', () => {
  it('answers 415 for a form body, text, or no body', async () => {
    const id = await createAudience(bench, 'users-415');
    const form = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, form: { operation_type: 'Update', params: '{}' } });
    expect(form.status).toBe(415);
    expect(form.body.errors[0]).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) });
    expect(form.body.request.params).toMatchObject({ account_id: bench.account, custom_audience_id: id });
    const text = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, raw: { body: '[]', contentType: 'text/plain' } });
    expect(text.status).toBe(415);
    const none = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken });
    expect(none.status).toBe(415);
  });

  it('answers 400 for a body that is not a JSON array of operations', async () => {
    const id = await createAudience(bench, 'users-json');
    for (const body of ['{', '{"operation_type":"Update"}', '[]']) {
      const res = await call(bench, 'POST', usersPath(bench, id), { token: bench.adminToken, raw: { body, contentType: 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].code).toBe('INVALID_PARAMETER');
    }
  });

  it('rejects more than 2500 operations and applies nothing; 2500 is fine', async () => {
    const id = await createAudience(bench, 'users-ops');
    const op = (i: number) => ({ operation_type: 'Update', params: { users: [{ email: [h(`ops${i}`)] }] } });
    const tooMany = await post(
      id,
      Array.from({ length: 2501 }, (_, i) => op(i)),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]).toMatchObject({ code: 'INVALID_PARAMETER', message: expect.stringContaining('2500') });
    expect((await members(id)).email).toEqual([]);
    const max = await post(
      id,
      Array.from({ length: 2500 }, (_, i) => op(i)),
    );
    expect(max.status).toBe(200);
    expect(max.body.data).toEqual({ success_count: 2500, total_count: 2500 });
  });

  it('rejects a body over 5,000,000 bytes with 413 and applies nothing', async () => {
    const id = await createAudience(bench, 'users-big');
    const users = Array.from({ length: 66_000 }, (_, i) => ({ email: [h(`big${i}`)] }));
    const json = [{ operation_type: 'Update', params: { users } }];
    expect(Buffer.byteLength(JSON.stringify(json))).toBeGreaterThan(5_000_000);
    const res = await post(id, json);
    expect(res.status).toBe(413);
    expect(res.body.errors[0]).toMatchObject({ code: 'INVALID_PARAMETER', message: expect.stringContaining('5000000') });
    expect((await members(id)).email).toEqual([]);
    // Just under the limit passes.
    const fits = [{ operation_type: 'Update', params: { users: users.slice(0, 60_000) } }];
    expect(Buffer.byteLength(JSON.stringify(fits))).toBeLessThanOrEqual(5_000_000);
    expect((await post(id, fits)).body.data).toEqual({ success_count: 60_000, total_count: 60_000 });
  });
});

describe('operation errors', () => {
  it('reports each invalid item at its operation’s position, and applies nothing', async () => {
    const id = await createAudience(bench, 'users-invalid');
    const good = { operation_type: 'Update', params: { users: [{ email: [h('ok@x.com')] }] } };
    const res = await post(id, [
      good,
      {
        operation_type: 'Update',
        params: {
          users: [{ email: [h('0')] }, { email: [h('1')] }, { email: [h('2')] }, { email: [h('3'), h('x').toUpperCase()], handle: ['jack'] }],
        },
      },
      { operation_type: 'Remove', params: { users: [{ fax: ['1'] }] } },
      { params: {} },
      { operation_type: 'Delete', params: { users: [{ phone_number: [h('1').slice(1)] }, 42, {}] } },
      good,
    ]);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ code: 'INVALID_PARAMETER', message: expect.stringContaining('4 of 6') }]);
    expect(res.body.request).toEqual({ params: { account_id: bench.account, custom_audience_id: id } });
    const oe = res.body.operation_errors;
    expect(oe).toHaveLength(6);
    expect(oe[0]).toEqual([]);
    expect(oe[1]).toEqual([
      { code: 'INVALID_PARAMETER', message: expect.any(String), parameter: 'params.users[3].email[1]' },
      { code: 'INVALID_PARAMETER', message: expect.any(String), parameter: 'params.users[3].handle[0]' },
    ]);
    expect(oe[2].map((e: { parameter: string }) => e.parameter)).toEqual(['operation_type', 'params.users[0].fax']);
    expect(oe[3]).toEqual([
      { code: 'MISSING_PARAMETER', message: expect.any(String), parameter: 'operation_type' },
      { code: 'MISSING_PARAMETER', message: expect.any(String), parameter: 'params.users' },
    ]);
    expect(oe[4].map((e: { parameter: string }) => e.parameter)).toEqual(['params.users[0].phone_number[0]', 'params.users[1]', 'params.users[2]']);
    expect(oe[5]).toEqual([]);
    expect((await members(id)).email).toEqual([]);
  });

  it('rejects expires_at not after effective_at with INVALID_TIME_WINDOW, and bad times', async () => {
    const id = await createAudience(bench, 'users-window');
    const res = await post(id, [
      { operation_type: 'Update', params: { effective_at: '2030-01-01T00:00:00Z', expires_at: '2030-01-01T00:00:00Z', users: [{ email: [h('w')] }] } },
      { operation_type: 'Update', params: { effective_at: 'tomorrow', users: [{ email: [h('w')] }] } },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe('INVALID_TIME_WINDOW');
    expect(res.body.operation_errors[0]).toEqual([{ code: 'INVALID_TIME_WINDOW', message: expect.any(String), parameter: 'params.expires_at' }]);
    expect(res.body.operation_errors[1]).toEqual([{ code: 'INVALID_PARAMETER', message: expect.any(String), parameter: 'params.effective_at' }]);
  });
});

describe('membership windows', () => {
  it('holds a member only while effective_at <= now < expires_at', async () => {
    const id = await createAudience(bench, 'users-time');
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const res = await post(id, [
      { operation_type: 'Update', params: { effective_at: iso(now + 400), users: [{ email: [h('later')] }] } },
      { operation_type: 'Update', params: { expires_at: iso(now + 400), users: [{ email: [h('briefly')] }] } },
      { operation_type: 'Update', params: { users: [{ email: [h('default')] }] } },
    ]);
    expect(res.status).toBe(200);
    expect((await members(id)).email).toEqual([h('briefly'), h('default')].sort());
    await waitFor('effective_at', async () => ((await members(id)).email.includes(h('later')) ? true : undefined), 3000);
    await waitFor('expires_at', async () => (!(await members(id)).email.includes(h('briefly')) ? true : undefined), 3000);
    expect((await members(id)).email).toEqual([h('later'), h('default')].sort());
  });
});

describe('not found and forbidden', () => {
  it('answers 404 for unknown, deleted and other accounts’ audiences', async () => {
    const json = [{ operation_type: 'Update', params: { users: [{ email: [h('n')] }] } }];
    const unknown = await post('zzzzz', json);
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0].code).toBe('NOT_FOUND');
    const deleted = await createAudience(bench, 'users-deleted');
    await call(bench, 'DELETE', `/12/accounts/${bench.account}/custom_audiences/${deleted}`, { token: bench.adminToken });
    expect((await post(deleted, json)).status).toBe(404);
    const elsewhere = await createAudience(bench, 'users-elsewhere', bench.secondAccount);
    expect((await post(elsewhere, json)).status).toBe(404);
    expect((await post(elsewhere, json, bench.secondAccount)).status).toBe(200);
  });

  it('answers 403 to the analyst and for accounts out of reach', async () => {
    const id = await createAudience(bench, 'users-analyst');
    const json = [{ operation_type: 'Update', params: { users: [{ email: [h('n')] }] } }];
    const analyst = await call(bench, 'POST', usersPath(bench, id), { token: tokenOf(bench.analyst), json });
    expect(analyst.status).toBe(403);
    expect(analyst.body.errors[0].code).toBe('ACTION_NOT_ALLOWED');
    const foreign = await call(bench, 'POST', usersPath(bench, 'abcde', bench.foreignAccount), { token: bench.adminToken, json });
    expect(foreign.status).toBe(403);
    expect(foreign.body.errors[0].code).toBe('ACCOUNT_NOT_FOUND');
  });
});

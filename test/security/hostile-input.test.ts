/**
 * Hostile input (issue 7): fast-check fuzzing of `POST /firehose` and every `/api/v1` route that
 * reads input, in process (`buildServer` over a temporary SQLite store, the X emulator for the
 * configuration checks), plus the extreme cases by hand: wrong types, unknown fields, deep
 * nesting, huge strings, invalid UTF-8, 10 MB bodies, 100,000 profiles or members in one request,
 * bodies over their route's limit (16 MB for members and the Firehose, 64 KB elsewhere),
 * prototype-pollution keys (`__proto__`, `constructor`, `prototype`).
 *
 * Every request must be answered 4xx with the error envelope and a reason, or processed (2xx);
 * never a 5xx, never a crash. A rejected request stores nothing: the store connection's
 * `total_changes()` (every row inserted, updated or deleted since it opened) is the same before and
 * after. `Object.prototype` stays clean, and the process's memory stays bounded.
 */
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES, buildServer, SMALL_BODY_LIMIT_BYTES } from '../../src/server/app.ts';
import { MAX_MEMBERS_PER_REQUEST } from '../../src/sources/rest/members.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { Emu } from '../e2e/harness.ts';
import { testServices } from '../support/services.ts';

const TOKEN = 'hostile-admin-token-0123456789';
const AUDIENCE = 'fz';
const RUNS = Number(process.env.TAILOR_FUZZ_RUNS ?? 150);
const MPID_BASE = 4_611_686_018_427_387_904n;

type Res = { status: number; body: any; raw: string };

describe('hostile input', () => {
  let emu: Emu;
  let app: FastifyInstance;
  let store: SqliteStore;
  let db: Database.Database;
  let dir: string;
  let configId: string;
  let accountId: string;
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    emu = await Emu.start({ populationSize: 100 });
    // Generous X read limits: the fuzzer's configuration checks must not meet X's rate limit.
    await emu.post('/_emulator/config', {
      rate_limits: { account_reads: { limit: 100_000, window_ms: 60_000 }, global_reads: { limit: 100_000, window_ms: 60_000 } },
    });
    accountId = emu.admin().accountId;
    dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tailor-hostile-'));
    store = SqliteStore.open(join(dir, 'tailor.db'));
    db = (store as unknown as { db: Database.Database }).db;
    const s = testServices(store, { emu });
    app = await buildServer(s, { adminToken: TOKEN, firehoseToken: null });
    await app.ready();
    const { user } = emu.admin();
    const c = await call('POST', '/api/v1/configurations', {
      account_id: accountId,
      access_token: user.access_token,
      access_token_secret: user.access_token_secret,
    });
    expect(c.status).toBe(201);
    configId = c.body.id;
    expect((await call('PUT', `/api/v1/audiences/${AUDIENCE}`, { name: 'Fuzz' })).status).toBe(201);
    expect((await call('PUT', `/api/v1/audiences/${AUDIENCE}/connections/${configId}`, {})).status).toBe(201);
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const changes = (): number => db.prepare('SELECT total_changes()').pluck().get() as number;

  /**
   * One request, checked: never 5xx; a 4xx carries `{error: {code, message}}` with a reason and
   * stores nothing; Object.prototype untouched. `payload`: an object is sent as JSON, a string or
   * Buffer as is.
   */
  async function call(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const before = changes();
    const res = await app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${TOKEN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      payload: payload === undefined ? undefined : typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    });
    const raw = res.body;
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const where = `${method} ${url.slice(0, 80)} → ${res.statusCode} ${raw.slice(0, 300)}`;
    expect(res.statusCode, where).toBeLessThan(500);
    if (res.statusCode >= 400) {
      expect(body?.error?.code, where).toEqual(expect.any(String));
      expect(body?.error?.message, where).toEqual(expect.stringMatching(/\w{3}/));
      expect(changes(), `${where}: a rejected request stored something`).toBe(before);
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort(), 'Object.prototype polluted').toEqual(protoKeys);
    expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').toBeUndefined();
    return { status: res.statusCode, body, raw };
  }

  // --- generators -------------------------------------------------------------------------------

  const hostileKey = fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'polluted', '__defineGetter__'),
    fc.constantFrom('add', 'remove', 'user_id', 'email', 'twitter_handle', 'ios_advertising_id', 'google_advertising_id', 'name'),
    fc.constantFrom(
      'type',
      'account',
      'account_settings',
      'accountId',
      'user_profiles',
      'audiences',
      'audience_id',
      'action',
      'mpid',
      'user_identities',
      'device_identities',
      'value',
      'encoding',
      'audience_subscription_settings',
      'forwardEmails',
    ),
    fc.constantFrom('forward_emails', 'forward_twitter_handles', 'forward_device_ids', 'account_id', 'access_token', 'access_token_secret'),
    fc.string({ maxLength: 12 }),
  );
  const scalar = fc.oneof(
    fc.string({ maxLength: 40, unit: 'binary' }),
    fc.constantFrom(
      'a@example.com',
      ' A@Example.COM ',
      '@Handle',
      '00000000-0000-4000-8000-000000000001',
      'true',
      'false',
      'add',
      'delete',
      'audience_membership_change_request',
      '18ce54d4x5t',
      '1',
      '-1327484737295091692',
      'x'.repeat(2000),
    ),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  /** JSON text with keys from the schemas, hostile keys and random ones, values of every type. */
  const { json } = fc.letrec<{ json: string }>((tie) => ({
    json: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar.map((v) => JSON.stringify(v)),
      fc.array(tie('json'), { maxLength: 5 }).map((a) => `[${a.join(',')}]`),
      fc.array(fc.tuple(hostileKey, tie('json')), { maxLength: 6 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    ),
  }));
  const obj = (entries: [string, string][]): string => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  /** A member-like object: mostly the right keys, some wrong types, unknown and hostile keys. */
  const memberLike = fc
    .array(
      fc.tuple(
        hostileKey,
        fc.oneof(
          scalar.map((v) => JSON.stringify(v)),
          json,
        ),
      ),
      { maxLength: 5 },
    )
    .map(obj);
  const membersBody = fc
    .record({
      add: fc.option(fc.array(memberLike, { maxLength: 6 })),
      remove: fc.option(fc.array(memberLike, { maxLength: 4 })),
      extra: fc.option(fc.tuple(hostileKey, json)),
    })
    .map((b) => {
      const entries: [string, string][] = [];
      if (b.add) entries.push(['add', `[${b.add.join(',')}]`]);
      if (b.remove) entries.push(['remove', `[${b.remove.join(',')}]`]);
      if (b.extra) entries.push(b.extra);
      return obj(entries);
    });
  const identityLike = fc
    .record({
      type: fc.constantFrom('email', 'twitter', 'ios_advertising_id', 'google_advertising_id', 'other'),
      encoding: fc.constantFrom('raw', 'sha256', 'md5', 'bogus'),
      value: scalar,
      extra: fc.option(fc.tuple(hostileKey, json)),
    })
    .map((i) =>
      obj([['type', JSON.stringify(i.type)], ['encoding', JSON.stringify(i.encoding)], ['value', JSON.stringify(i.value)], ...(i.extra ? [i.extra] : [])]),
    );
  const profileLike = fc
    .record({
      mpid: fc.option(fc.oneof(scalar, fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String))),
      ids: fc.array(identityLike, { maxLength: 3 }),
      audiences: fc.array(
        fc.record({
          audience_id: fc.oneof(fc.constantFrom(41, '42', -1, 1.5, 'x'), scalar),
          action: fc.oneof(fc.constantFrom('add', 'delete', 'attribute_update'), scalar),
          settings: fc.option(json),
        }),
        { maxLength: 2 },
      ),
      extra: fc.option(fc.tuple(hostileKey, json)),
    })
    .map((p) =>
      obj([
        ...(p.mpid === null ? [] : [['mpid', JSON.stringify(p.mpid)] as [string, string]]),
        ['user_identities', `[${p.ids.join(',')}]`],
        [
          'audiences',
          `[${p.audiences.map((a) => obj([['audience_id', JSON.stringify(a.audience_id)], ['audience_name', '"Fuzzed"'], ['action', JSON.stringify(a.action)], ...(a.settings ? [['audience_subscription_settings', a.settings] as [string, string]] : [])])).join(',')}]`,
        ],
        ...(p.extra ? [p.extra] : []),
      ]),
    );
  const firehoseBody = fc
    .record({
      type: fc.oneof(fc.constantFrom('audience_membership_change_request', 'audience_subscription_request', 'module_registration_request'), scalar),
      accountId: fc.oneof(fc.constant('ACCOUNT'), scalar),
      profiles: fc.option(fc.array(profileLike, { maxLength: 4 })),
      extra: fc.array(fc.tuple(hostileKey, json), { maxLength: 2 }),
    })
    .map((m) =>
      obj([
        ['type', JSON.stringify(m.type)],
        [
          'account',
          obj([
            ['account_id', '1'],
            ['account_settings', obj([['accountId', m.accountId === 'ACCOUNT' ? JSON.stringify(accountId) : JSON.stringify(m.accountId)]])],
          ]),
        ],
        ...(m.profiles ? [['user_profiles', `[${m.profiles.join(',')}]`] as [string, string]] : []),
        ['audience_id', '43'],
        ['audience_name', '"Fuzzed subscription"'],
        ['action', '"add"'],
        ...m.extra,
      ]),
    );
  /** Valid JSON text with bytes that are not UTF-8 spliced in somewhere. */
  const withInvalidUtf8 = (text: fc.Arbitrary<string>): fc.Arbitrary<Buffer> =>
    fc
      .tuple(
        text,
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => b.map((x) => 0x80 | (x & 0x7f))),
      )
      .map(([t, at, bad]) => {
        const buf = Buffer.from(t);
        const i = buf.length === 0 ? 0 : at % buf.length;
        return Buffer.concat([buf.subarray(0, i), Buffer.from([0xff, ...bad]), buf.subarray(i)]);
      });

  const members = `/api/v1/audiences/${AUDIENCE}/members`;

  // --- properties -------------------------------------------------------------------------------

  it('POST /api/v1/.../members: any JSON shape is a 202 or a 4xx with a reason; rejections store nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(membersBody, json), async (body) => {
        const res = await call('POST', members, body);
        if (res.status === 202)
          expect(res.body).toMatchObject({ accepted: { add: expect.any(Number), remove: expect.any(Number) }, rejected: expect.any(Array) });
        else expect(res.status).toBe(400);
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /firehose: any JSON shape is processed or a 4xx with a reason; rejections store nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: firehoseBody }, { weight: 1, arbitrary: json }), async (body) => {
        const res = await call('POST', '/firehose', body);
        expect([200, 400], res.raw.slice(0, 200)).toContain(res.status);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('every other /api/v1 route with input: odd ids and bodies are answered 2xx or 4xx', async () => {
    const id = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('..', '%2e%2e%2f', 'a%00b', '__proto__', 'constructor', 'x'.repeat(300), '%F0%9F%92%A9', '%ff%fe', 'a/b', '%2F'),
      fc.stringMatching(/^[A-Za-z0-9._~-]{1,20}$/),
    );
    const route = fc.constantFrom(
      (i: string) => ['PUT', `/api/v1/audiences/${i}`],
      (i: string) => ['GET', `/api/v1/audiences/${i}`],
      (i: string) => ['GET', `/api/v1/audiences/${i}/history`],
      (i: string) => ['DELETE', `/api/v1/audiences/gone-${i}`], // never the fuzzed audience itself
      (i: string) => ['PUT', `/api/v1/audiences/${AUDIENCE}/connections/${i}`],
      (i: string) => ['DELETE', `/api/v1/configurations/${i}`],
      (i: string) => ['POST', `/api/v1/audiences/${i}/members`],
      () => ['POST', '/api/v1/configurations'],
    );
    await fc.assert(
      fc.asyncProperty(route, id, fc.oneof(json, fc.constant(undefined)), async (r, i, body) => {
        const [method, url] = r(encodeURI(i).replace(/#/g, '%23').replace(/\?/g, '%3F')) as [string, string];
        // Never delete the fuzzed audience or its configuration: other properties use them.
        if (method === 'DELETE' && url.endsWith(`/${configId}`)) return;
        await call(method, url, method === 'GET' || method === 'DELETE' ? undefined : body);
      }),
      { numRuns: RUNS },
    );
  });

  it('invalid UTF-8 anywhere in a body is a 4xx or processed, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(withInvalidUtf8(fc.oneof(membersBody, firehoseBody)), fc.boolean(), async (payload, toFirehose) => {
        await call('POST', toFirehose ? '/firehose' : members, payload);
      }),
      { numRuns: RUNS },
    );
  });

  // --- the extremes, by hand --------------------------------------------------------------------

  it('deep nesting (100,000 levels) is a 400, or a 413 on a route with a small body limit', async () => {
    for (const depth of [1_000, 100_000]) {
      for (const [open, close] of [
        ['[', ']'],
        ['{"a":', '}'],
      ] as const) {
        const text = `${open.repeat(depth)}1${close.repeat(depth)}`;
        expect((await call('POST', members, `{"add":${text}}`)).status).toBe(400);
        expect((await call('POST', '/firehose', `{"type":"audience_membership_change_request","user_profiles":${text}}`)).status).toBe(400);
        // Only the members and Firehose routes read 16 MB; the others stop at 64 KB, unparsed.
        expect((await call('PUT', `/api/v1/audiences/${AUDIENCE}`, text)).status).toBe(text.length > SMALL_BODY_LIMIT_BYTES ? 413 : 400);
      }
    }
  });

  it('huge strings (10 MB) in values and keys are 400s that name the field', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    let res = await call('POST', members, { add: [{ user_id: 'u1', email: `${huge}@example.com` }] });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/add\[0\]\.email/);
    res = await call('POST', members, `{"add":[{"${huge}":"a@example.com"}]}`);
    expect(res.status).toBe(400);
    expect(res.body.error.message.length).toBeLessThan(5_000); // the reason does not echo 10 MB back
    // An audience's body is small (64 KB limit): refused before it is read whole.
    res = await call('PUT', `/api/v1/audiences/${AUDIENCE}`, { name: huge });
    expect(res.status).toBe(413);
    expect(res.body.error.message).toBe(`Request body is larger than ${SMALL_BODY_LIMIT_BYTES} bytes`);
    res = await call('PUT', `/api/v1/audiences/${AUDIENCE}`, { name: 'x'.repeat(SMALL_BODY_LIMIT_BYTES - 100) });
    expect(res.status).toBe(400);
    const msg = {
      type: 'audience_membership_change_request',
      account: { account_settings: { accountId } },
      user_profiles: [
        {
          mpid: '1',
          user_identities: [{ type: 'email', encoding: 'raw', value: huge }],
          audiences: [{ audience_id: 44, audience_name: 'Huge', action: 'add' }],
        },
      ],
    };
    res = await call('POST', '/firehose', msg);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/user_profiles\[0\]\.user_identities\[0\]\.value/);
    expect(res.raw.length).toBeLessThan(5_000);
  });

  it('bodies: 10 MB of valid members is processed; 10 MB of garbage is a 400; over 16 MB is a 413', async () => {
    // ~10 MB of members with every identifier: accepted whole.
    const add = Array.from({ length: 75_000 }, (_, i) => ({
      user_id: `big${i}`,
      email: `big${i}@example.com`,
      twitter_handle: `big_${i}`,
      ios_advertising_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    }));
    const text = JSON.stringify({ add });
    expect(text.length).toBeGreaterThan(10 * 1024 * 1024);
    let res = await call('POST', members, text);
    expect(res.status).toBe(202);
    expect(res.body.accepted.add).toBe(75_000);

    res = await call('POST', members, `{"add":[${'{"user_id":"x",'.repeat(700_000)}`);
    expect(res.status).toBe(400);
    res = await call('POST', '/firehose', Buffer.alloc(10 * 1024 * 1024, 0xfe));
    expect(res.status).toBe(400);

    const over = `{"add":[],"pad":"${'x'.repeat(BODY_LIMIT_BYTES)}"}`;
    for (const url of [members, '/firehose', `/api/v1/audiences/${AUDIENCE}`, '/api/v1/configurations']) {
      res = await call(url.endsWith(AUDIENCE) ? 'PUT' : 'POST', url, over);
      expect(res.status, url).toBe(413);
      expect(res.body.error.code).toBe('payload_too_large');
    }
  });

  it('100,000 members in one REST request are processed; 100,001 are a 400 that stores nothing', async () => {
    const add = Array.from({ length: MAX_MEMBERS_PER_REQUEST }, (_, i) => ({ user_id: `c${i}`, email: `c${i}@example.com` }));
    let res = await call('POST', members, { add });
    expect(res.status).toBe(202);
    expect(res.body.accepted.add).toBe(MAX_MEMBERS_PER_REQUEST);
    res = await call('POST', members, { add: add.slice(0, 60_000), remove: add.slice(0, 40_001) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/at most 100000 members/);
  });

  it('100,000 profiles in one Firehose request are processed', async () => {
    // mParticle sends about 100 profiles a request; 100,000 fit in the 16 MB limit when compact.
    // 19-digit mpids: a string that long cannot turn up by chance in the database's hex hashes (the at-rest check below).
    const profiles = Array.from({ length: 100_000 }, (_, i) => ({
      mpid: String(MPID_BASE + BigInt(i)),
      user_identities: [{ type: 'email', value: `p${i}@example.com` }],
      audiences: [{ audience_id: 45, action: 'add' }],
    }));
    profiles[0]!.audiences = [{ audience_id: 45, action: 'add', audience_name: 'Hundred thousand' } as (typeof profiles)[0]['audiences'][0]];
    const text = JSON.stringify({ type: 'audience_membership_change_request', account: { account_settings: { accountId } }, user_profiles: profiles });
    expect(text.length).toBeLessThan(BODY_LIMIT_BYTES);
    const res = await call('POST', '/firehose', text);
    expect(res.status).toBe(200);
    expect(res.body.suspend_subscription).toBe(false);
    expect(await store.countMembers('45')).toBe(100_000);
  });

  it('prototype-pollution keys are refused or ignored, and pollute nothing', async () => {
    const payloads = [
      '{"__proto__":{"polluted":"yes"},"add":[]}',
      '{"constructor":{"prototype":{"polluted":"yes"}},"add":[]}',
      '{"add":[{"user_id":"p1","email":"p1@example.com","__proto__":{"polluted":"yes"}}]}',
      '{"add":[{"user_id":"p1","constructor":{"prototype":{"polluted":"yes"}}}]}',
    ];
    for (const p of payloads) expect((await call('POST', members, p)).status).toBe(400);
    expect((await call('PUT', `/api/v1/audiences/${AUDIENCE}`, '{"name":"Fuzz","__proto__":{"polluted":"yes"}}')).status).toBe(400);
    expect((await call('PUT', `/api/v1/audiences/${AUDIENCE}/connections/${configId}`, '{"__proto__":{"forward_emails":false}}')).status).toBe(400);
    const firehose = (inject: string): string =>
      `{"type":"audience_membership_change_request","account":{"account_settings":{"accountId":${JSON.stringify(accountId)}}},"user_profiles":[{"mpid":"5","user_identities":[{"type":"email","encoding":"raw","value":"p5@example.com"${inject}}],"audiences":[{"audience_id":46,"audience_name":"Proto","action":"add","audience_subscription_settings":{"forwardEmails":"true"${inject}}}]${inject}}]${inject}}`;
    for (const inject of [',"__proto__":{"polluted":"yes"}', ',"constructor":{"prototype":{"polluted":"yes"}}', ',"__proto__":"yes"']) {
      const res = await call('POST', '/firehose', firehose(inject));
      expect([200, 400]).toContain(res.status);
    }
    // The audience created from those messages forwards e-mails as asked: no setting came from a prototype.
    const view = (await call('GET', '/api/v1/audiences/46')).body;
    if (view?.connections) expect(view.connections[0].forward_emails).toBe(true);
  });

  it('UI forms are limited to 16 KB', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${'x'.repeat(20_000)}`,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.message).toBe('Request body is larger than 16384 bytes');
  });

  it('odd content types, methods and headers are 4xx', async () => {
    expect((await call('POST', members, 'add=1', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    // text/plain is read as a string (fastify's default parser), which the schema refuses.
    expect((await call('POST', members, '{"add":[]}', { 'content-type': 'text/plain' })).body.error.message).toMatch(/expected object/);
    expect((await call('POST', members, '', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await call('POST', members, '{"add":[]}', { 'content-type': 'application/json; charset=utf-16' })).status).toBeLessThan(500);
    expect((await call('PATCH', members, {})).status).toBe(404);
    expect((await call('POST', '/firehose', '{"type":"module_registration_request"}', { 'content-type': 'application/xml' })).status).toBe(200);
    expect((await call('POST', '/firehose', '<xml/>', { 'content-type': 'application/xml' })).status).toBe(400);
  });

  it('no raw identifier of the requests above is in the database files, user ids and mpids included', () => {
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    expect(files.length).toBeGreaterThan(0);
    // User ids and mpids key the members: stored only as keyed digests (src/membership/member-key.ts).
    // (`big…` holds non-hex letters and the mpids have 19 digits: no hash can spell one by chance.)
    const keys = ['big0', 'big74999', String(MPID_BASE), String(MPID_BASE + 99_999n)];
    for (const raw of [
      'big0@example.com',
      'big_74999',
      'c99999@example.com',
      'p0@example.com',
      'p99999@example.com',
      '00000000-0000-4000-8000-000000000001',
      ...keys,
    ]) {
      for (const content of files) expect(content.includes(Buffer.from(raw)), raw).toBe(false);
    }
  });

  it('memory stays bounded', async () => {
    // RSS keeps the high-water mark of the 10-16 MB bodies (V8 returns memory lazily): a generous
    // bound. The live heap after a full collection shows nothing is retained.
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.log(`hostile input: RSS grew by ${grownMb.toFixed(0)} MB, the live heap by ${heapMb.toFixed(0)} MB, over every request above`);
    expect(grownMb).toBeLessThan(1024);
    expect(heapMb).toBeLessThan(64);
  });
});

/**
 * Client strings used as lookup keys (issue 11, item 1). A Firehose identity `type` was looked up
 * in a plain object, so `constructor`, `__proto__`, `toString`… found Object.prototype's members:
 * with a raw value the request was a 500, with a digest it was a 200 that dropped the identity and
 * still counted a member (`members` drifted from the ledger). Now every lookup by a client string
 * is a Map or an own-property check, and a string that is no identity type is a counted rejection.
 *
 * Then a property: random hostile Firehose and REST bodies (prototype keys everywhere, deep
 * nesting, huge numbers, wrong types, lone surrogates, NUL, arrays where objects go) are answered
 * 2xx or 4xx only, and afterwards every audience's `members` (as GET /api/v1/audiences reports it)
 * equals the distinct member keys in the ledger.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMembers } from '../../src/sources/import/run.ts';
import { membershipMessage, startServer, type Server } from './server.ts';

const RUNS = Number(process.env.TAILOR_FUZZ_RUNS ?? 150);
const sha = (v: string): string => createHash('sha256').update(v).digest('hex');
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype);

describe('lookups by client-supplied strings', () => {
  let srv: Server;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv?.close();
  });

  async function expectCountsMatchLedger(): Promise<void> {
    const counts = await srv.memberCounts();
    for (const c of counts) expect(c.reported, `audience ${c.id}: members reported vs distinct member keys in the ledger`).toBe(c.ledger);
  }

  it.each(PROTO_KEYS)('a Firehose identity type %j is a counted rejection, never a 500 or a phantom member', async (key) => {
    const audienceId = 500 + PROTO_KEYS.indexOf(key);
    const profiles = [
      // A raw value: was a 500 (normalizeRaw had no case for the kind).
      {
        mpid: '1',
        user_identities: [{ type: key, encoding: 'raw', value: 'proto@example.com' }],
        audiences: [{ audience_id: audienceId, audience_name: 'Proto', action: 'add' }],
      },
      // A digest: was a 200 storing nothing for the member, yet counting it.
      {
        mpid: '2',
        device_identities: [{ type: key, encoding: 'sha256', value: sha('proto@example.com') }],
        audiences: [{ audience_id: audienceId, action: 'add' }],
      },
    ];
    const res = await srv.call('POST', '/firehose', membershipMessage(profiles));
    expect(res.status).toBe(200);
    expect(res.body.suspend_subscription).toBe(false);
    const view = (await srv.call('GET', `/api/v1/audiences/${audienceId}`)).body;
    expect(view.members).toBe(0);
    expect(view.rejected_identities).toEqual([expect.objectContaining({ reason: 'unknown_identity_type', count: 2 })]);
    await expectCountsMatchLedger();
  });

  it('an mParticle identity type Tailor did not register is still ignored, not counted', async () => {
    const profiles = [
      {
        mpid: '3',
        user_identities: [
          { type: 'customer', value: 'c1' },
          { type: 'email', value: 'kept@example.com' },
        ],
        device_identities: [{ type: 'android_id', value: 'abc' }],
        audiences: [{ audience_id: 600, audience_name: 'Ignored', action: 'add' }],
      },
    ];
    expect((await srv.call('POST', '/firehose', membershipMessage(profiles))).status).toBe(200);
    const view = (await srv.call('GET', '/api/v1/audiences/600')).body;
    expect(view.members).toBe(1);
    expect(view.rejected_identities).toEqual([]);
  });

  it('every other lookup by a client string: message types, encodings, settings, REST fields, import columns', async () => {
    for (const key of [...PROTO_KEYS, 'prototype']) {
      // Message type dispatch.
      let res = await srv.call('POST', '/firehose', { type: key });
      expect(res.status, key).toBe(400);
      // Encodings.
      res = await srv.call(
        'POST',
        '/firehose',
        membershipMessage([
          {
            mpid: '7',
            user_identities: [{ type: 'email', encoding: key, value: 'enc@example.com' }],
            audiences: [{ audience_id: 650, audience_name: 'Enc', action: 'add' }],
          },
        ]),
      );
      expect(res.status, key).toBe(400);
      expect(res.body.error.message).toContain('encoding: must be one of raw, sha256, md5, sha1');
      // Settings named after prototype members are kept as sent and set no toggle.
      res = await srv.call(
        'POST',
        '/firehose',
        `{"type":"audience_subscription_request","account":{"account_settings":{"accountId":"acct0011"}},"audience_id":651,"audience_name":"Settings","action":"add","audience_subscription_settings":{${JSON.stringify(key)}:"false","forwardDeviceIds":"false"}}`,
      );
      expect(res.status, key).toBe(200);
      const view = (await srv.call('GET', '/api/v1/audiences/651')).body;
      expect(view.connections[0]).toMatchObject({ forward_emails: true, forward_twitter_handles: true, forward_device_ids: false });
      // REST fields: strict schemas refuse them by name.
      res = await srv.call('POST', '/api/v1/audiences/650/members', `{"add":[{"email":"a@example.com",${JSON.stringify(key)}:"x"}]}`);
      expect(res.status, key).toBe(400);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('import column and field names that are prototype keys stop the file or the line, never match', async () => {
    await srv.store.putAudience('imp-proto', 'Import', Date.now(), 'admin_token');
    for (const key of [...PROTO_KEYS, 'prototype']) {
      await expect(
        importMembers({
          store: srv.store,
          memberKeys: srv.memberKeys,
          audienceId: 'imp-proto',
          action: 'add',
          input: Readable.from([Buffer.from(`email,${key}\na@example.com,x\n`)]),
          format: 'csv',
        }),
      ).rejects.toThrow(/unknown column: column 2;/);
      const summary = await importMembers({
        store: srv.store,
        memberKeys: srv.memberKeys,
        audienceId: 'imp-proto',
        action: 'add',
        input: Readable.from([Buffer.from(`{"email":"b@example.com",${JSON.stringify(key)}:"x"}\n`)]),
        format: 'ndjson',
      });
      expect(summary.reasons, key).toEqual({ unknown_field: 1 });
    }
    expect((await srv.call('GET', '/api/v1/audiences/imp-proto')).body.members).toBe(0);
  });

  // --- the property ----------------------------------------------------------------------------

  /** JSON text built by hand, so keys like `__proto__` and numbers like 1e400 can be written. */
  type J = string | number | boolean | null | { raw: string } | J[] | { entries: [string, J][] };
  const text = (v: J): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
    if ('raw' in v) return v.raw;
    return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(',')}}`;
  };
  const obj = (...entries: ([string, J] | null)[]): J => ({ entries: entries.filter((e): e is [string, J] => e !== null) });

  const protoKey = fc.constantFrom(...PROTO_KEYS, 'prototype');
  /** Strings where strings go: prototype keys, lone surrogates, NUL, U+FFFD, controls, bidi, identifiers. */
  const hostileString = fc.oneof(
    protoKey,
    fc.constantFrom('\ud800', 'a\udc00b', '\udbff\udfff', 'x\u0000y', '\u0000', 'bad\ufffdbyte@example.com', 'R\u202eTL', 'line\nbreak', '\u0085', '', ' '),
    fc.constantFrom(
      'a@example.com',
      ' B@Example.COM ',
      '@Handle',
      '4b61639e-47cc-4056-a16a-c8217e029462',
      sha('a@example.com'),
      'true',
      'false',
      'add',
      'delete',
    ),
    fc.string({ maxLength: 12, unit: 'binary' }),
  );
  const hugeNumber = fc.constantFrom<J>(
    { raw: '1e400' },
    { raw: '-1e400' },
    { raw: '123456789012345678901234567890' },
    { raw: '9223372036854775808' },
    { raw: '-0' },
    { raw: '1.5e-400' },
    2 ** 53 + 1,
    -1,
  );
  const deep = fc.constantFrom<J>({ raw: `${'['.repeat(3000)}${']'.repeat(3000)}` }, { raw: `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}` }, 'x'.repeat(1500));
  /** Any JSON value: the wrong type wherever it lands. */
  const { json } = fc.letrec<{ json: J }>((tie) => ({
    json: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      hostileString,
      hugeNumber,
      fc.constantFrom<J>(true, false, null, 0),
      fc.array(tie('json'), { maxLength: 3 }),
      fc.array(fc.tuple(fc.oneof(protoKey, hostileString), tie('json')), { maxLength: 3 }).map((entries) => ({ entries })),
    ),
  }));

  const AUDIENCES = [701, 702, 703];

  /**
   * The bodies. With `shapes` on, any field may hold a value of the wrong type, deep nesting or
   * a 1,500-character string (mostly 400s); off, the shape is right and only the strings are
   * hostile, so requests get as far as the identity lookups and the ledger.
   */
  function bodies(shapes: boolean) {
    const sometimes = <T extends J>(good: fc.Arbitrary<T>): fc.Arbitrary<J> =>
      shapes ? fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: json }, { weight: 1, arbitrary: deep }) : good;
    /** Now and then an unknown or prototype key (a 400 on /api/v1, whose schemas are strict). */
    const extra = shapes
      ? fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.oneof(protoKey, hostileString), json) })
      : fc.constant(null);
    const identity = fc
      .record({
        type: sometimes(fc.oneof(fc.constantFrom('email', 'twitter', 'ios_advertising_id', 'google_advertising_id', 'customer', 'android_id'), protoKey)),
        encoding: sometimes(fc.constantFrom('raw', 'raw', 'sha256', 'md5')),
        value: sometimes(
          fc.oneof(hostileString, fc.constantFrom('x@example.com', 'y@example.com', 'handle_1', '4b61639e-47cc-4056-a16a-c8217e029462', sha('x@example.com'))),
        ),
        extra,
      })
      .map((i) => obj(['type', i.type], ['encoding', i.encoding], ['value', i.value], i.extra));
    const audience = fc
      .record({
        id: sometimes(fc.oneof(fc.constantFrom(...AUDIENCES), fc.constantFrom(...AUDIENCES.map(String)))),
        name: sometimes(fc.oneof(fc.constant('Hostile'), hostileString)),
        action: sometimes(fc.constantFrom('add', 'add', 'delete', 'attribute_update')),
        settings: fc.option(
          sometimes(
            fc
              .array(
                fc.tuple(
                  fc.oneof(protoKey, fc.constantFrom('forwardEmails', 'forwardDeviceIds')),
                  fc.oneof(fc.constantFrom<J>('true', 'false'), shapes ? json : hostileString),
                ),
                { maxLength: 3 },
              )
              .map((entries) => ({ entries })),
          ),
          { nil: null },
        ),
      })
      .map((a) =>
        obj(
          ['audience_id', a.id],
          ['audience_name', a.name],
          ['action', a.action],
          a.settings === null ? null : ['audience_subscription_settings', a.settings],
        ),
      );
    const profile = fc
      .record({
        mpid: fc.option(sometimes(fc.constantFrom<J>('1', '2', '3', '-9223372036854775808', { raw: '9223372036854775807' })), { nil: null }),
        users: sometimes(fc.array(sometimes(identity), { maxLength: 3 })),
        devices: fc.option(sometimes(fc.array(sometimes(identity), { maxLength: 2 })), { nil: null }),
        audiences: sometimes(fc.array(sometimes(audience), { minLength: 1, maxLength: 2 })),
        extra,
      })
      .map((p) =>
        obj(
          p.mpid === null ? null : ['mpid', p.mpid],
          ['user_identities', p.users],
          p.devices === null ? null : ['device_identities', p.devices],
          ['audiences', p.audiences],
          p.extra,
        ),
      );
    const firehose = fc
      .record({
        type: sometimes(
          fc.constantFrom(
            'audience_membership_change_request',
            'audience_membership_change_request',
            'audience_membership_change_request',
            'audience_subscription_request',
            'module_registration_request',
          ),
        ),
        account: sometimes(
          fc
            .oneof({ weight: 6, arbitrary: fc.constant('acct0011') }, { weight: 1, arbitrary: hostileString })
            .map((id) => obj(['account_id', 1], ['account_settings', obj(['accountId', id])])),
        ),
        profiles: sometimes(fc.array(sometimes(profile), { maxLength: 4 })),
        extra,
      })
      .map((m) => ({
        method: 'POST',
        url: '/firehose',
        body: obj(
          ['type', m.type],
          ['account', m.account],
          ['user_profiles', m.profiles],
          ['audience_id', AUDIENCES[0]!],
          ['audience_name', 'Subscribed'],
          ['action', 'add'],
          m.extra,
        ),
      }));

    const optional = (a: fc.Arbitrary<J>) => fc.option(a, { nil: null });
    const restMember = fc
      .record({
        user_id: optional(sometimes(fc.oneof(fc.constantFrom('u1', 'u2', 'u3'), hostileString))),
        email: optional(sometimes(hostileString)),
        twitter_handle: optional(sometimes(hostileString)),
        ios_advertising_id: optional(sometimes(fc.constantFrom('4b61639e-47cc-4056-a16a-c8217e029462', '\ud800', 'x\u0000'))),
        extra,
      })
      .map((m) =>
        obj(
          m.user_id === null ? null : ['user_id', m.user_id],
          m.email === null ? null : ['email', m.email],
          m.twitter_handle === null ? null : ['twitter_handle', m.twitter_handle],
          m.ios_advertising_id === null ? null : ['ios_advertising_id', m.ios_advertising_id],
          m.extra,
        ),
      );
    const rest = fc.oneof(
      fc
        .record({
          add: optional(sometimes(fc.array(sometimes(restMember), { maxLength: 4 }))),
          remove: optional(sometimes(fc.array(sometimes(restMember), { maxLength: 2 }))),
          extra,
        })
        .map((b) => ({
          method: 'POST',
          url: '/api/v1/audiences/r1/members',
          body: obj(b.add === null ? null : ['add', b.add], b.remove === null ? null : ['remove', b.remove], b.extra),
        })),
      fc.record({ name: sometimes(hostileString), extra }).map((b) => ({ method: 'PUT', url: '/api/v1/audiences/r1', body: obj(['name', b.name], b.extra) })),
      fc
        .record({
          key: fc.oneof(protoKey, fc.constantFrom('forward_emails', 'forward_device_ids')),
          value: shapes ? fc.oneof(fc.boolean(), json) : fc.boolean(),
        })
        .map((b) => ({ method: 'PUT', url: '/api/v1/audiences/r1/connections/CONFIG', body: obj([b.key, b.value]) })),
    );
    return fc.oneof({ weight: 2, arbitrary: firehose }, { weight: 1, arbitrary: rest });
  }

  it('random hostile Firehose and REST bodies: 2xx or 4xx only, and members as reported = distinct member keys in the ledger', async () => {
    expect((await srv.call('PUT', '/api/v1/audiences/r1', { name: 'REST' })).status).toBe(201);
    const config = (await srv.call('GET', '/api/v1/configurations')).body.data[0].id as string;
    expect((await srv.call('PUT', `/api/v1/audiences/r1/connections/${config}`, {})).status).toBe(201);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(bodies(false), bodies(true)), async (req) => {
        const res = await srv.call(req.method, req.url.replace('CONFIG', config), text(req.body));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (process.env.DEBUG_LOOKUPS) console.log('DBG', req.url, res.status, res.raw.slice(0, 120));
        await expectCountsMatchLedger();
      }),
      { numRuns: RUNS * 2 },
    );
    console.log(`hostile lookups: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    // Not vacuous: some requests were processed and some refused.
    expect([...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(RUNS / 5);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 5);
    const counts = await srv.memberCounts();
    expect(counts.some((c) => c.ledger > 0)).toBe(true);
  });
});

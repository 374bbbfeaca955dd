/**
 * No echoes (issue 11, item 3): an error names where the input went wrong, never what it says.
 * Before: a Firehose body that was not JSON was answered with V8's message, which quotes the text
 * around the mistake; zod's "Unrecognized key" quoted a key that was an e-mail address; `tailor
 * import` of a CSV without a header printed the first row's e-mail and handle as "unknown
 * columns", and an NDJSON line keyed by an e-mail address printed the address. Each case checks
 * that the raw value is in no response body, no log line, and neither stdout nor stderr.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membershipMessage, startServer, type Server } from './server.ts';

const EMAIL = 'echo.person@example.com';
const HANDLE = 'echo_handle_77';
const SECRETS = [EMAIL, 'echo.person', HANDLE];

function expectNoValue(where: string, text: string): void {
  for (const v of SECRETS) expect(text, `${where} holds ${v}`).not.toContain(v);
}

describe('errors do not echo values', () => {
  let srv: Server;
  beforeAll(async () => {
    srv = await startServer();
    await srv.store.putAudience('echo', 'Echo', Date.now(), 'admin_token');
  });
  afterAll(async () => {
    await srv?.close();
  });

  const truncated = `{"type":"audience_membership_change_request","user_profiles":[{"user_identities":[{"type":"twitter","value":"${HANDLE}`;
  const stray = `{"type":"audience_membership_change_request","user_profiles":[{"user_identities":[{"type":"email","value":"${EMAIL}"x}]}]}`;
  it.each([
    [`{"type": ${EMAIL}}`, 9],
    [`${EMAIL}`, 0],
    [stray, stray.indexOf('x}')],
    [truncated, truncated.length],
    [`{"mpid": 12, "email": '${EMAIL}'}`, 22],
  ])('POST /firehose %j: "Body is not valid JSON (at position %i)"', async (payload, at) => {
    const res = await srv.call('POST', '/firehose', payload);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(`Body is not valid JSON (at position ${at})`);
    expectNoValue('the answer', res.raw);
  });

  it('REST bodies that are not JSON are answered without the text', async () => {
    for (const payload of [`{"add":[{"email": ${EMAIL}}]}`, `{"add":[{"email":"${EMAIL}"`, `{"name": '${EMAIL}'}`]) {
      for (const [method, url] of [
        ['POST', '/api/v1/audiences/echo/members'],
        ['PUT', '/api/v1/audiences/echo'],
      ] as const) {
        const res = await srv.call(method, url, payload);
        expect(res.status).toBe(400);
        expectNoValue(`${method} ${url}`, res.raw);
      }
    }
  });

  it('a key that is not a field name is described, not quoted', async () => {
    let res = await srv.call('POST', '/api/v1/audiences/echo/members', { add: [{ [EMAIL]: 'x' }], [HANDLE.replace(/_/g, '.')]: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('add[0]: unknown field (a key of 23 characters)');
    expectNoValue('the answer', res.raw);
    res = await srv.call('PUT', '/api/v1/audiences/echo', { name: 'Echo', [`${EMAIL} `]: true });
    expect(res.status).toBe(400);
    expectNoValue('the answer', res.raw);
    // A typo is still named: it looks like a field name.
    res = await srv.call('POST', '/api/v1/audiences/echo/members', { add: [{ emial: EMAIL }] });
    expect(res.body.error.message).toContain('add[0]: unknown field "emial"');
    expectNoValue('the answer', res.raw);

    // A Firehose settings map keyed by an e-mail address, with a value of the wrong type.
    const msg = membershipMessage([
      {
        mpid: '1',
        user_identities: [{ type: 'email', value: EMAIL }],
        audiences: [{ audience_id: 901, audience_name: 'Echo', action: 'add', audience_subscription_settings: { [EMAIL]: { a: 1 } } }],
      },
    ]);
    res = await srv.call('POST', '/firehose', msg);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('audience_subscription_settings.(a key of 23 characters): setting values must be strings');
    expectNoValue('the answer', res.raw);
  });

  it('values of the wrong type or shape are not quoted either', async () => {
    const bodies: [string, string, unknown][] = [
      ['POST', '/api/v1/audiences/echo/members', { add: [{ user_id: EMAIL.repeat(20), email: EMAIL }] }],
      ['POST', '/api/v1/audiences/echo/members', { add: [{ email: [EMAIL] }] }],
      ['POST', '/api/v1/audiences/echo/members', { remove: { email: EMAIL } }],
      [
        'POST',
        '/firehose',
        membershipMessage([
          { mpid: EMAIL, user_identities: [{ type: 'email', encoding: EMAIL, value: EMAIL.repeat(50) }], audiences: [{ audience_id: EMAIL, action: EMAIL }] },
        ]),
      ],
      ['POST', '/firehose', { type: EMAIL }],
      [
        'POST',
        '/firehose',
        {
          type: 'audience_subscription_request',
          account: { account_settings: { accountId: `${EMAIL}\u0000` } },
          audience_id: 1,
          audience_name: 'x',
          action: EMAIL,
        },
      ],
    ];
    for (const [method, url, body] of bodies) {
      const res = await srv.call(method, url, body);
      expect(res.status).toBe(400);
      expectNoValue(`${method} ${url}`, res.raw);
    }
  });

  it('no log line holds a value from the requests above', () => {
    expect(srv.logs()).toContain('"status":400'); // the requests were logged
    expectNoValue('the log', srv.logs());
  });

  describe('tailor import', () => {
    const run = (file: string): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['bin/tailor.js', 'import', file, '--audience', 'echo'], {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            TAILOR_DATABASE_URL: `sqlite:${join(srv.dir, 'tailor.db')}`,
            TAILOR_SECRET_KEY: 'security-test-secret-0123456789abcdef',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', (code) => resolve({ code, out }));
      });

    it('a CSV without a header: "the first row looks like data", without quoting it', async () => {
      // The server's store stays open; WAL lets the import read and write beside it.
      const file = join(srv.dir, 'headerless.csv');
      writeFileSync(file, `${EMAIL},${HANDLE}\nother@example.com,other\n`);
      const r = await run(file);
      expect(r.code).toBe(1);
      expect(r.out).toContain('the first row looks like data, not a header');
      expectNoValue('the output', r.out);
    }, 30_000);

    it('unknown NDJSON fields, bad quoting and bad values print line numbers and reasons only', async () => {
      const ndjson = join(srv.dir, 'keyed.ndjson');
      writeFileSync(ndjson, `{"${EMAIL}":"x"}\n{"email":"${EMAIL}","twitter_handle":"${HANDLE} x"}\n{"email":"${EMAIL.replace('@', '')}"}\n`);
      let r = await run(ndjson);
      expect(r.code).toBe(0);
      expect(r.out).toContain('line 1: the line has an unknown field; the fields are');
      expect(r.out).toContain('line 2: twitter_handle: twitter_handle may hold only letters, digits and underscores (invalid_handle)');
      expectNoValue('the output', r.out);

      const csv = join(srv.dir, 'quotes.csv');
      writeFileSync(csv, `email,twitter_handle\nab"${EMAIL}",x\n"${EMAIL},${HANDLE}\n`);
      r = await run(csv);
      expect(r.out).toMatch(/line \d+: (the row is not valid CSV|a quoted field is not closed)/);
      expectNoValue('the output', r.out);

      const badHeader = join(srv.dir, 'quoted-header.csv');
      writeFileSync(badHeader, `email,x"${EMAIL}"\n${EMAIL},1\n`);
      r = await run(badHeader);
      expect(r.code).toBe(1);
      expectNoValue('the output', r.out);
    }, 60_000);
  });
});

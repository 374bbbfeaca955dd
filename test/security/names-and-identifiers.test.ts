/**
 * Names and identifiers are validated (issue 11, item 2). Audience and configuration names with
 * control characters (C0, DEL, C1) or bidi overrides, isolates and marks are refused by REST with
 * a 400 and the reason; Firehose names (which mParticle cannot change on request) are cleaned.
 * Identifiers that are not valid Unicode scalar strings (lone surrogates from JSON escapes, U+FFFD
 * from bytes that were not UTF-8 in an import file) or hold NUL are rejected as
 * `invalid_encoding` and never hashed; a member key (`user_id`) of that kind is refused.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMembers } from '../../src/sources/import/run.ts';
import { ACCOUNT, membershipMessage, startServer, type Server } from './server.ts';

const sha = (v: string): string => createHash('sha256').update(v, 'utf8').digest('hex');

const FORBIDDEN = [
  '\u0000',
  '\u0009',
  '\u000a',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u009f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200e',
  '\u200f',
  '\u061c',
  '\ud800',
];
const hex = (c: string): string => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

describe('names and identifiers', () => {
  let srv: Server;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv?.close();
  });

  it.each(FORBIDDEN)('PUT /api/v1/audiences/:id refuses a name holding %j with 400 and the reason', async (c) => {
    const res = await srv.call('PUT', '/api/v1/audiences/named', { name: `Spring${c}sale` });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message).toContain(`name: `);
    expect(res.body.error.message).toContain(`${hex(c)} at position 7`);
    expect((await srv.call('GET', '/api/v1/audiences/named')).status).toBe(404);
  });

  it('a rename to such a name is refused and the name is kept', async () => {
    expect((await srv.call('PUT', '/api/v1/audiences/kept', { name: 'Kept' })).status).toBe(201);
    const res = await srv.call('PUT', '/api/v1/audiences/kept', { name: 'gpj.\u202eexe' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/name: must not hold bidirectional override, isolate or mark characters \(U\+202E at position 5\)/);
    expect((await srv.call('GET', '/api/v1/audiences/kept')).body.name).toBe('Kept');
  });

  it('POST /api/v1/configurations refuses such a name before anything is asked of X', async () => {
    for (const c of ['\u0007', '\u202e', '\u2067']) {
      const res = await srv.call('POST', '/api/v1/configurations', { name: `Acme${c}`, account_id: 'abc123', access_token: 't', access_token_secret: 's' });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(`name: `);
      expect(res.body.error.message).toContain(hex(c));
    }
  });

  it('REST identifiers that are not valid text are rejected as invalid_encoding, never hashed', async () => {
    expect((await srv.call('PUT', '/api/v1/audiences/enc', { name: 'Encodings' })).status).toBe(201);
    const bad = ['lone\ud800@example.com', 'nul\u0000@example.com', 'caf\ufffd@example.com'];
    const res = await srv.call('POST', '/api/v1/audiences/enc/members', {
      add: [
        { user_id: 'u1', email: bad[0] },
        { user_id: 'u2', email: bad[1], twitter_handle: 'ja\u0000ck' },
        { email: bad[2] },
        { user_id: 'u4', email: 'good@example.com' },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.rejected).toEqual([
      { list: 'add', index: 0, field: 'email', reason: 'invalid_encoding', message: expect.stringMatching(/^email is not valid Unicode/) },
      { list: 'add', index: 1, field: 'email', reason: 'invalid_encoding', message: 'email holds a NUL character (at position 4)' },
      { list: 'add', index: 1, field: 'twitter_handle', reason: 'invalid_encoding', message: 'twitter_handle holds a NUL character (at position 3)' },
      { list: 'add', index: 2, field: 'email', reason: 'invalid_encoding', message: expect.stringMatching(/^email holds U\+FFFD/) },
    ]);
    const view = (await srv.call('GET', '/api/v1/audiences/enc')).body;
    expect(view.members).toBe(1); // u4 only: u1 and u2 hold no identity, the third has none
    expect(view.rejected_identities).toEqual([expect.objectContaining({ reason: 'invalid_encoding', count: 4 })]);
    const stored = srv.files();
    for (const v of bad) {
      for (const form of [v, v.toLowerCase()]) for (const f of stored) expect(f.includes(Buffer.from(sha(form))), JSON.stringify(form)).toBe(false);
    }
    for (const f of stored) expect(f.includes(Buffer.from(sha('jack')))).toBe(false);
  });

  it('a REST user_id that is not valid text is a 400 naming the field; nothing is stored', async () => {
    for (const userId of ['u\ud800', 'u\u0000x', '\udc00']) {
      const res = await srv.call('POST', '/api/v1/audiences/enc/members', {
        add: [
          { user_id: 'fine', email: 'fine@example.com' },
          { user_id: userId, email: 'x@example.com' },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/add\[1\]\.user_id: invalid_encoding: /);
    }
    expect((await srv.call('GET', '/api/v1/audiences/enc')).body.members).toBe(1);
  });

  it('Firehose identities that are not valid text are counted as invalid_encoding; names are cleaned; a bad accountId is a 400', async () => {
    const res = await srv.call(
      'POST',
      '/firehose',
      membershipMessage([
        {
          mpid: '11',
          user_identities: [{ type: 'email', encoding: 'raw', value: 'fh\ud800@example.com' }],
          device_identities: [{ type: 'ios_advertising_id', value: '4b61639e-47cc-4056-a16a-c8217e02946\u0000' }],
          audiences: [{ audience_id: 801, audience_name: 'Tro\u202ejan\u0007 name', action: 'add' }],
        },
        { mpid: '12', user_identities: [{ type: 'email', value: 'fh-good@example.com' }], audiences: [{ audience_id: 801, action: 'add' }] },
      ]),
    );
    expect(res.status).toBe(200);
    const view = (await srv.call('GET', '/api/v1/audiences/801')).body;
    expect(view.name).toBe('Trojan name');
    expect(view.members).toBe(1);
    expect(view.rejected_identities).toEqual([expect.objectContaining({ reason: 'invalid_encoding', count: 2 })]);

    // mpid is the member key as sent: only the digits of a signed 64-bit integer pass.
    for (const mpid of ['1\u0000', '\ud8001', '１２']) {
      const r = await srv.call(
        'POST',
        '/firehose',
        membershipMessage([{ mpid, user_identities: [{ type: 'email', value: 'm@example.com' }], audiences: [{ audience_id: 801, action: 'add' }] }]),
      );
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain('user_profiles[0].mpid: must be a signed 64-bit integer');
    }

    const msg = membershipMessage([]);
    for (const accountId of [`${ACCOUNT}\u0000`, `${ACCOUNT}\u202e`, '\ud800']) {
      (msg.account as { account_settings: { accountId: string } }).account_settings.accountId = accountId;
      const r = await srv.call('POST', '/firehose', msg);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain('account.account_settings.accountId: must be an X ad account id');
    }
  });

  it('import: U+FFFD from bytes that are not UTF-8, lone surrogates and NUL are rejected with a reason, never hashed', async () => {
    await srv.store.putAudience('imp', 'Import', Date.now(), 'admin_token');
    const csv = Buffer.concat([
      Buffer.from('user_id,email\nu1,caf'),
      Buffer.from([0xe9]),
      Buffer.from('@example.com\nu2,ok@example.com\nu\u0000,nul@example.com\n'),
    ]);
    let summary = await importMembers({
      store: srv.store,
      memberKeys: srv.memberKeys,
      audienceId: 'imp',
      action: 'add',
      input: Readable.from([csv]),
      format: 'csv',
    });
    expect(summary.reasons).toEqual({ invalid_encoding: 2 });
    expect(summary.problems).toEqual([
      { line: 2, reason: 'invalid_encoding', field: 'email', message: expect.stringMatching(/^email holds U\+FFFD \(at position 4\)/) },
      { line: 4, reason: 'invalid_encoding', field: 'user_id', message: 'user_id holds a NUL character (at position 2)' },
    ]);
    const ndjson =
      '{"user_id":"u3","email":"x\\ud800@example.com"}\n{"user_id":"u\\u0000y"}\n{"email":"n\\u0000@example.com"}\n{"user_id":"u5","email":"ok5@example.com"}\n';
    summary = await importMembers({
      store: srv.store,
      memberKeys: srv.memberKeys,
      audienceId: 'imp',
      action: 'add',
      input: Readable.from([Buffer.from(ndjson)]),
      format: 'ndjson',
    });
    expect(summary.reasons).toEqual({ invalid_encoding: 3 });
    expect(summary.problems.map((p) => [p.line, p.field, p.reason])).toEqual([
      [1, 'email', 'invalid_encoding'],
      [2, 'user_id', 'invalid_encoding'],
      [3, 'email', 'invalid_encoding'],
    ]);
    const stored = srv.files();
    for (const v of ['caf\ufffd@example.com', 'x\ud800@example.com', 'n\u0000@example.com', 'nul@example.com'])
      for (const f of stored) expect(f.includes(Buffer.from(sha(v))) || f.includes(Buffer.from(sha(v), 'hex')), JSON.stringify(v)).toBe(false);
    // Hashes are stored as their 32 bytes since migration 0009 (src/store/binary.ts).
    expect(stored.some((f) => f.includes(Buffer.from(sha('ok5@example.com'), 'hex')))).toBe(true);
    expect((await srv.call('GET', '/api/v1/audiences/imp')).body.members).toBe(2); // u2, u5 (u1 and u3 hold no identity)
  });
});

/**
 * /firehose checks its token before it reads the body (issue 11). Before, the route read up to
 * 16 MB and parsed it before looking at the Authorization header: a caller without the token
 * could make Tailor buffer and parse 16 MB per request.
 *
 * - With TAILOR_FIREHOSE_TOKEN set, a wrong credential is answered 401 from the headers alone
 *   (the body is never sent here, and the answer still comes); with no Authorization header (how
 *   mParticle registers, before it has minted the token) at most 64 KB is read and only a
 *   registration is answered.
 * - Without a token (loopback only, see settings.test.ts), requests from browsers (`Origin`) are
 *   refused: any web page could otherwise post membership changes to 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNAUTHENTICATED_FIREHOSE_BODY_BYTES } from '../../src/server/guards.ts';
import { holdSocket, rawRequest } from './raw-http.ts';
import { FIREHOSE, startServer, type TestServer } from './listening.ts';

const MEMBERSHIP = (profiles: number) =>
  JSON.stringify({
    type: 'audience_membership_change_request',
    id: 'm1',
    timestamp_ms: 1,
    account: { account_id: 1, account_settings: { accountId: 'acct0001' } },
    user_profiles: Array.from({ length: profiles }, (_, i) => ({
      mpid: String(1000 + i),
      user_identities: [{ type: 'email', encoding: 'raw', value: `p${i}@example.com` }],
      audiences: [{ audience_id: 7, audience_name: 'Seven', action: 'add' }],
    })),
  });
const REGISTRATION = JSON.stringify({ type: 'module_registration_request', id: 'r1', timestamp_ms: 1, firehose_version: '2.1' });

describe('/firehose with TAILOR_FIREHOSE_TOKEN set', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer({ firehoseToken: FIREHOSE });
    await t.store.putConfiguration(
      { name: 'Test', accountId: 'acct0001', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
      Date.now(),
      'cli',
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Sends only the headers of a POST announcing `length` bytes; the answer must come anyway. */
  async function headersOnly(length: number, headers: Record<string, string>) {
    const held = await holdSocket(
      t.port,
      `POST /firehose HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`,
    );
    try {
      return await held.head(3_000);
    } finally {
      held.socket.destroy();
    }
  }

  it('refuses a wrong or missing token from the headers alone, before any of a 16 MB body arrives', async () => {
    const before = t.changes();
    const attempts: Record<string, string>[] = [
      { authorization: 'Token wrong' },
      { authorization: `Token ${FIREHOSE}x` },
      { authorization: `Bearer ${FIREHOSE}` },
      { authorization: 'Token' },
      {},
    ];
    for (const headers of attempts) {
      const res = await headersOnly(16 * 1024 * 1024 - 1, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    }
    expect(t.calls).toEqual([]);
    expect(t.changes()).toBe(before);
  });

  it('without an Authorization header, reads at most 64 KB and answers only a registration', async () => {
    expect(UNAUTHENTICATED_FIREHOSE_BODY_BYTES).toBe(64 * 1024);
    const ok = await rawRequest(t.port, { method: 'POST', target: '/firehose', headers: { 'content-type': 'application/json' }, body: REGISTRATION });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).type).toBe('module_registration_response');

    // A membership change small enough to be read is still refused.
    const small = await rawRequest(t.port, { method: 'POST', target: '/firehose', headers: { 'content-type': 'application/json' }, body: MEMBERSHIP(2) });
    expect(small.status).toBe(401);

    // Chunked, so no Content-Length to refuse up front: cut off once 64 KB have come through,
    // while the client is still sending.
    const held = await holdSocket(t.port, 'POST /firehose HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
    const chunk = `{"type":"module_registration_request","pad":"${'x'.repeat(16 * 1024)}`;
    for (let i = 0; i < 6; i++) held.socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
    const res = await held.head(3_000);
    held.socket.destroy();
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.message).toMatch(/65536 bytes/);
    expect(t.calls).toEqual([]);
  });

  it('with the token, reads big batches (16 MB limit) and acts on them', async () => {
    const body = MEMBERSHIP(5_000);
    expect(body.length).toBeGreaterThan(UNAUTHENTICATED_FIREHOSE_BODY_BYTES * 4);
    const res = await rawRequest(t.port, {
      method: 'POST',
      target: '/firehose',
      headers: { 'content-type': 'application/json', authorization: `Token ${FIREHOSE}` },
      body,
    });
    expect(res.status, res.body.slice(0, 300)).toBe(200);
    expect(JSON.parse(res.body).suspend_subscription).toBe(false);
    expect(await t.store.countMembers('7')).toBe(5_000);
  });
});

describe('/firehose without a token (loopback only)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer({ firehoseToken: null });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses requests a browser sends (they carry Origin), so no web page can post to it', async () => {
    const before = t.changes();
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${t.port}`]) {
      const res = await rawRequest(t.port, { method: 'POST', target: '/firehose', headers: { 'content-type': 'text/plain', origin }, body: MEMBERSHIP(1) });
      expect(res.status, origin).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('forbidden');
    }
    expect(t.calls).toEqual([]);
    expect(t.changes()).toBe(before);
    const res = await rawRequest(t.port, { method: 'POST', target: '/firehose', headers: { 'content-type': 'application/json' }, body: MEMBERSHIP(1) });
    expect(res.status).toBe(200);
  });
});

/**
 * Request ids (issue 11): Tailor makes its own (a random UUID) and keeps a client's
 * `X-Request-Id` only when it is a UUID. Before, any `[\w.-]{1,128}` was logged and echoed as
 * sent, so a caller chose text that landed in every log line of its request (forged ids to
 * confuse an investigation, or another request's id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './raw-http.ts';
import { startServer, type TestServer } from './listening.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  const idOf = async (given?: string) => {
    const res = await rawRequest(t.port, { method: 'GET', target: '/healthz', headers: given === undefined ? {} : { 'x-request-id': given } });
    expect(res.status).toBe(200);
    return res.headers['x-request-id']!;
  };
  /** The request ids of the log lines written for requests. */
  const loggedIds = () =>
    t.logs
      .map((l) => JSON.parse(l) as { reqId?: string; msg?: string })
      .filter((l) => l.msg === 'request')
      .map((l) => l.reqId);

  it('makes its own: a fresh UUID per request', async () => {
    const a = await idOf();
    const b = await idOf();
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
    expect(loggedIds()).toEqual(expect.arrayContaining([a, b]));
  });

  it("replaces a client's id that is not a UUID, in the answer and the logs", async () => {
    for (const given of [
      'abc',
      'req-1',
      'a'.repeat(128),
      'admin.login.ok',
      '../../etc/passwd',
      '0000000000000000000000000000000000000000',
      '123e4567-e89b-12d3-a456-42661417400',
      '123e4567-e89b-12d3-a456-4266141740000',
    ]) {
      const id = await idOf(given);
      expect(id, given).toMatch(UUID);
      expect(id).not.toBe(given);
      expect(t.logs.join('\n')).not.toContain(given.length > 3 ? given : '"abc"');
    }
  });

  it("keeps a client's UUID (lower-cased), so a caller can follow its request", async () => {
    expect(await idOf('123e4567-e89b-12d3-a456-426614174000')).toBe('123e4567-e89b-12d3-a456-426614174000');
    expect(await idOf('9F1C2B3A-0D4E-4F5A-8B6C-7D8E9F0A1B2C')).toBe('9f1c2b3a-0d4e-4f5a-8b6c-7d8e9f0a1b2c');
    expect(loggedIds()).toEqual(expect.arrayContaining(['123e4567-e89b-12d3-a456-426614174000', '9f1c2b3a-0d4e-4f5a-8b6c-7d8e9f0a1b2c']));
  });
});

import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AudienceNotFoundError,
  NameTakenError,
  RateLimitedError,
  ReauthRequiredError,
  RejectedError,
  RetryableError,
  type SyncError,
} from '../../src/core/errors.ts';
import { XClient } from '../../src/x/client.ts';
import { packUsers } from '../../src/x/pack.ts';
import { APP, TOKENS, startStub, xAudience, type Stub } from './stub-x.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ACCOUNT = '18ce54d4x5t';
const [REQUEST] = packUsers('email', [
  { op: 'add', hash: sha('a') },
  { op: 'add', hash: sha('b') },
  { op: 'remove', hash: sha('c') },
]);

let stub: Stub;
beforeAll(async () => {
  stub = await startStub();
});
afterAll(async () => {
  await stub.close();
});
beforeEach(() => {
  stub.received.length = 0;
});

async function failure(p: Promise<unknown>): Promise<SyncError> {
  try {
    await p;
  } catch (error) {
    return error as SyncError;
  }
  throw new Error('expected the call to fail');
}

const send = (client = stub.client()) => client.sendUsers(TOKENS, ACCOUNT, '1nmth', REQUEST!);
const xErrors = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  errors: [{ code, message, ...extra }],
});

describe('sendUsers answers that are not a success', () => {
  it('counts that differ from the users sent → RetryableError', async () => {
    for (const data of [
      { success_count: 2, total_count: 3 },
      { success_count: 4, total_count: 4 }, // equal to each other, not to the 3 sent
      { success_count: 2, total_count: 2 }, // the 2 operations counted instead of the 3 users
    ]) {
      stub.handle = () => ({ body: { data } });
      const e = await failure(send());
      expect(e).toBeInstanceOf(RetryableError);
      expect(e.message).toMatch(new RegExp(`^X counted ${data.success_count} of 3 users.*; the batch will be sent again\\.$`));
      expect(e.code).toBe('COUNT_MISMATCH');
    }
  });

  it('2xx with a body that is not JSON, or not the expected shape → RetryableError', async () => {
    for (const body of ['<html>OK</html>', '', { data: [{ success_count: 3, total_count: 3 }] }, { data: { success_count: '3' } }]) {
      stub.handle = () => ({ body });
      expect(await failure(send())).toBeInstanceOf(RetryableError);
    }
  });

  it('429 → RateLimitedError at the account reset, else the token reset', async () => {
    stub.handle = () => ({
      status: 429,
      headers: { 'x-rate-limit-reset': '1893499999', 'x-account-rate-limit-reset': '1893499500' },
      body: xErrors('TOO_MANY_REQUESTS', 'Too many requests'),
    });
    const account = await failure(send());
    expect(account).toBeInstanceOf(RateLimitedError);
    expect((account as RateLimitedError).resetAt).toBe(1893499500_000);

    stub.handle = () => ({ status: 429, headers: { 'x-rate-limit-reset': '1893499999' }, body: '' });
    expect(((await failure(send())) as RateLimitedError).resetAt).toBe(1893499999_000);

    stub.handle = () => ({ status: 429, body: '' });
    const fixedNow = 1_900_000_000_000;
    expect(((await failure(send(stub.client({ now: () => fixedNow })))) as RateLimitedError).resetAt).toBe(fixedNow + 60_000);
  });

  it('503 with retry-after → RetryableError with retryAfterMs; 500 → RetryableError', async () => {
    stub.handle = () => ({ status: 503, headers: { 'retry-after': '7' }, body: xErrors('SERVICE_UNAVAILABLE', 'down') });
    const e = await failure(send());
    expect(e).toBeInstanceOf(RetryableError);
    expect((e as RetryableError).retryAfterMs).toBe(7000);
    expect(e.code).toBe('SERVICE_UNAVAILABLE');

    stub.handle = () => ({ status: 500, body: '<html>Internal error</html>' });
    expect(await failure(send())).toBeInstanceOf(RetryableError);
  });

  it('401 → ReauthRequiredError with X’s code', async () => {
    stub.handle = () => ({ status: 401, body: xErrors('UNAUTHORIZED_ACCESS', 'This request is not properly authenticated') });
    const e = await failure(send());
    expect(e).toBeInstanceOf(ReauthRequiredError);
    expect(e.code).toBe('UNAUTHORIZED_ACCESS');
    expect(e.message).toMatch(/^X says the access token is no longer valid \(UNAUTHORIZED_ACCESS\)/);
  });

  it('403 → ReauthRequiredError', async () => {
    stub.handle = () => ({ status: 403, body: xErrors('ACCOUNT_NOT_FOUND', 'no access') });
    const e = await failure(send());
    expect(e).toBeInstanceOf(ReauthRequiredError);
    expect(e.code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('404 → AudienceNotFoundError', async () => {
    stub.handle = () => ({ status: 404, body: xErrors('NOT_FOUND', 'The requested resource was not found') });
    expect(await failure(send())).toBeInstanceOf(AudienceNotFoundError);
    expect(await failure(stub.client().getAudience(TOKENS, ACCOUNT, 'gone'))).toBeInstanceOf(AudienceNotFoundError);
  });

  it('415 and 400 → RejectedError, with operation_errors', async () => {
    stub.handle = () => ({ status: 415, body: '' });
    const e415 = await failure(send());
    expect(e415).toBeInstanceOf(RejectedError);
    expect(e415.status).toBe(415);

    stub.handle = () => ({
      status: 400,
      body: { errors: [{ code: 'INVALID_PARAMETER', message: 'bad' }], operation_errors: [[{ code: 'INVALID_USER', message: 'x' }], null] },
    });
    const e400 = (await failure(send())) as RejectedError;
    expect(e400).toBeInstanceOf(RejectedError);
    expect(e400.operationErrors).toEqual([{ operationIndex: 0, code: 'INVALID_USER', message: 'x' }]);
  });
});

describe('audience calls that fail', () => {
  it('400 name taken on create and rename → NameTakenError', async () => {
    stub.handle = () => ({
      status: 400,
      body: xErrors('INVALID_PARAMETER', 'A custom audience with this name already exists', { parameter: 'name' }),
    });
    expect(await failure(stub.client().createAudience(TOKENS, ACCOUNT, { name: 'Fans (email)' }))).toBeInstanceOf(NameTakenError);
    expect(await failure(stub.client().updateAudience(TOKENS, ACCOUNT, '1', { name: 'Fans (email)' }))).toBeInstanceOf(NameTakenError);
  });

  it('deleteAudience still throws errors other than 404', async () => {
    stub.handle = () => ({ status: 401, body: xErrors('UNAUTHORIZED_ACCESS', 'no') });
    expect(await failure(stub.client().deleteAudience(TOKENS, ACCOUNT, '1'))).toBeInstanceOf(ReauthRequiredError);
  });

  it('a page cursor that repeats → RetryableError instead of looping', async () => {
    stub.handle = () => ({ body: { data: [xAudience('1')], next_cursor: 'same' } });
    expect(await failure(stub.client().listAudiences(TOKENS, ACCOUNT))).toBeInstanceOf(RetryableError);
    expect(stub.received).toHaveLength(2);
  });

  it('requestToken without a confirmed callback → RejectedError', async () => {
    stub.handle = () => ({ body: 'oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=false' });
    const e = await failure(stub.client().requestToken('https://tailor.example/cb'));
    expect(e).toBeInstanceOf(RejectedError);
    expect(e.message).toContain('did not confirm the callback URL');
  });

  it('accessToken with a bad verifier (401) → ReauthRequiredError', async () => {
    stub.handle = () => ({ status: 401, body: 'Invalid request token.' });
    const e = await failure(stub.client().accessToken({ oauthToken: 't', oauthTokenSecret: 's' }, 'bad'));
    expect(e).toBeInstanceOf(ReauthRequiredError);
  });
});

describe('no answer', () => {
  it('a server that never answers → RetryableError after the timeout', async () => {
    stub.handle = () => 'hang';
    const started = Date.now();
    const e = await failure(send(stub.client({ timeoutMs: 300 })));
    expect(e).toBeInstanceOf(RetryableError);
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a dropped connection → RetryableError', async () => {
    stub.handle = () => 'destroy';
    const e = await failure(send());
    expect(e).toBeInstanceOf(RetryableError);
    expect(e.message).toMatch(/^Could not reach X while sending users/);
  });

  it('a refused connection → RetryableError', async () => {
    const port = await freePort();
    const client = new XClient({ apiUrl: `http://127.0.0.1:${port}`, oauthUrl: `http://127.0.0.1:${port}`, app: APP });
    const e = await failure(client.getAudience(TOKENS, ACCOUNT, '1'));
    expect(e).toBeInstanceOf(RetryableError);
    expect(e.code).toBe('ECONNREFUSED');
  });

  it('a bad base URL is a configuration error at construction', () => {
    expect(() => new XClient({ apiUrl: 'not a url', oauthUrl: 'http://127.0.0.1', app: APP })).toThrow(/apiUrl is not a URL/);
  });
});

/** A port nothing listens on: bind, read the port, close. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

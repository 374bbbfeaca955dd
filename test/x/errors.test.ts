import { describe, expect, it } from 'vitest';
import { AudienceNotFoundError, NameTakenError, RateLimitedError, ReauthRequiredError, RejectedError, RetryableError } from '../../src/core/errors.ts';
import { xError, type XOperation } from '../../src/x/errors.ts';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

function answer(status: number, body: unknown, operation: XOperation = 'send_users', headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return xError({ kind: 'response', status, headers, body: text }, { operation, now: NOW });
}

const xErr = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  errors: [{ code, message, ...extra }],
  request: { params: {} },
});

describe('xError: 429', () => {
  it('uses x-account-rate-limit-reset first (epoch seconds → ms)', () => {
    const e = answer(429, xErr('TOO_MANY_REQUESTS', 'Rate limit exceeded'), 'list_audiences', {
      'x-account-rate-limit-reset': '1893499500',
      'x-rate-limit-reset': '1893499999',
    });
    expect(e).toBeInstanceOf(RateLimitedError);
    expect((e as RateLimitedError).resetAt).toBe(1893499500_000);
    expect(e.fate).toBe('rate_limited');
    expect(e.code).toBe('TOO_MANY_REQUESTS');
    expect(e.status).toBe(429);
  });

  it('falls back to x-rate-limit-reset, then to one minute from now', () => {
    const user = answer(429, '', 'send_users', { 'X-Rate-Limit-Reset': '1893499999' }) as RateLimitedError;
    expect(user.resetAt).toBe(1893499999_000);
    const none = answer(429, '<html>slow down</html>') as RateLimitedError;
    expect(none).toBeInstanceOf(RateLimitedError);
    expect(none.resetAt).toBe(NOW + 60_000);
    const garbage = answer(429, '', 'send_users', { 'x-rate-limit-reset': 'soon' }) as RateLimitedError;
    expect(garbage.resetAt).toBe(NOW + 60_000);
  });

  it('accepts a Headers object', () => {
    const e = xError(
      { kind: 'response', status: 429, headers: new Headers({ 'x-rate-limit-reset': '1893499999' }), body: '' },
      { operation: 'send_users', now: NOW },
    ) as RateLimitedError;
    expect(e.resetAt).toBe(1893499999_000);
  });
});

describe('xError: retryable', () => {
  it('5xx, with or without JSON', () => {
    for (const status of [500, 502, 503, 504]) {
      const e = answer(status, status === 500 ? xErr('INTERNAL_ERROR', 'oops') : '<html>Bad gateway</html>');
      expect(e).toBeInstanceOf(RetryableError);
      expect((e as RetryableError).retryAfterMs).toBeUndefined();
    }
    expect(answer(500, xErr('INTERNAL_ERROR', 'oops')).code).toBe('INTERNAL_ERROR');
  });

  it('503 retry-after in seconds or as an HTTP date', () => {
    const secs = answer(503, xErr('OVER_CAPACITY', 'Over capacity'), 'send_users', { 'retry-after': '120' });
    expect((secs as RetryableError).retryAfterMs).toBe(120_000);
    expect(secs.code).toBe('OVER_CAPACITY');
    const date = answer(503, '', 'send_users', { 'Retry-After': new Date(NOW + 30_000).toUTCString() });
    expect((date as RetryableError).retryAfterMs).toBe(30_000);
  });

  it('408 and 423 are X-side timeouts and retry rather than drop the batch', () => {
    expect(answer(408, xErr('CANCELLED_REQUEST', 'cancelled'))).toBeInstanceOf(RetryableError);
    expect(answer(423, xErr('LOCK_ACQUISITION_TIMEOUT', 'lock'))).toBeInstanceOf(RetryableError);
  });

  it('network failures: timeout, reset, hang up, fetch TypeError', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const t = xError({ kind: 'network', error: timeout, timeoutMs: 5000 }, { operation: 'send_users' });
    expect(t).toBeInstanceOf(RetryableError);
    expect(t.code).toBe('TIMEOUT');
    expect(t.message).toContain('5000 ms');
    expect(t.cause).toBe(timeout);

    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(xError({ kind: 'network', error: reset }, { operation: 'send_users' }).code).toBe('ECONNRESET');

    const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(xError({ kind: 'network', error: hangUp }, { operation: 'get_audience' })).toBeInstanceOf(RetryableError);

    const fetchFailed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const f = xError({ kind: 'network', error: fetchFailed }, { operation: 'send_users' });
    expect(f).toBeInstanceOf(RetryableError);
    expect(f.code).toBe('UND_ERR_SOCKET');
    expect(f.message).toMatch(/Could not reach X while sending users .*UND_ERR_SOCKET/);

    expect(xError({ kind: 'network', error: 'weird' }, { operation: 'send_users' })).toBeInstanceOf(RetryableError);
  });

  it('2xx that cannot be used', () => {
    const e = xError({ kind: 'unusable', status: 200, reason: 'its answer was not JSON' }, { operation: 'send_users' });
    expect(e).toBeInstanceOf(RetryableError);
    expect(e.message).toBe('X answered 200 while sending users to a custom audience, but its answer was not JSON; the batch will be sent again.');
    const counted = xError({ kind: 'count_mismatch', status: 200, successCount: 2, totalCount: 2, sent: 3 }, { operation: 'send_users' });
    expect(counted).toBeInstanceOf(RetryableError);
    expect(counted.message).toBe('X counted 2 of 3 users (total_count 2); the batch will be sent again.');
  });
});

describe('xError: reauthorization', () => {
  it('401 UNAUTHORIZED_ACCESS says so in plain words and keeps the code', () => {
    const e = answer(401, xErr('UNAUTHORIZED_ACCESS', 'This request is not properly authenticated'));
    expect(e).toBeInstanceOf(ReauthRequiredError);
    expect(e.fate).toBe('reauth');
    expect(e.code).toBe('UNAUTHORIZED_ACCESS');
    expect(e.message).toMatch(/^X says the access token is no longer valid \(UNAUTHORIZED_ACCESS\)/);
  });

  it('403 ACCOUNT_NOT_FOUND, UNAUTHORIZED_CLIENT_APPLICATION, plain 403', () => {
    const account = answer(403, xErr('ACCOUNT_NOT_FOUND', 'User 1 is not authorized to make this request'));
    expect(account).toBeInstanceOf(ReauthRequiredError);
    expect(account.code).toBe('ACCOUNT_NOT_FOUND');
    expect(account.message).toContain('cannot reach the ad account');

    const app = answer(403, xErr('UNAUTHORIZED_CLIENT_APPLICATION', 'The client application making this request does not have access'));
    expect(app).toBeInstanceOf(ReauthRequiredError);
    expect(app.code).toBe('UNAUTHORIZED_CLIENT_APPLICATION');

    const plain = answer(403, 'Forbidden');
    expect(plain).toBeInstanceOf(ReauthRequiredError);
    expect(plain.code).toBeUndefined();
    expect(plain.message).toContain('(HTTP 403)');
  });

  it('401 on the login flow points at the app credentials', () => {
    const e = answer(401, xErr('32', 'Could not authenticate you.'), 'request_token');
    expect(e).toBeInstanceOf(ReauthRequiredError);
    expect(e.message).toContain('consumer key');
  });
});

describe('xError: 404', () => {
  it('on an audience: the audience is gone', () => {
    for (const op of ['get_audience', 'update_audience', 'delete_audience', 'send_users'] as const) {
      expect(answer(404, xErr('NOT_FOUND', 'not found'), op)).toBeInstanceOf(AudienceNotFoundError);
    }
    expect(answer(404, '<html>Not Found</html>', 'send_users')).toBeInstanceOf(AudienceNotFoundError);
    expect(answer(404, xErr('TAILORED_AUDIENCE_NOT_FOUND', 'x'), 'send_users').code).toBe('TAILORED_AUDIENCE_NOT_FOUND');
  });

  it('ROUTE_NOT_FOUND, or a 404 not on an audience, is rejected rather than re-created', () => {
    expect(answer(404, xErr('ROUTE_NOT_FOUND', 'no route'), 'send_users')).toBeInstanceOf(RejectedError);
    expect(answer(404, xErr('NOT_FOUND', 'x'), 'list_audiences')).toBeInstanceOf(RejectedError);
  });
});

describe('xError: name taken', () => {
  it('400 with parameter "name" on create or rename', () => {
    const body = xErr('INVALID_PARAMETER', 'Custom audience name must be unique', { parameter: 'name' });
    for (const op of ['create_audience', 'update_audience'] as const) {
      const e = answer(400, body, op);
      expect(e).toBeInstanceOf(NameTakenError);
      expect(e.fate).toBe('name_taken');
      expect(e.code).toBe('INVALID_PARAMETER');
    }
  });

  it('400 whose message says the name is taken', () => {
    for (const message of ['Name is already taken', 'An audience with this name already exists', 'Duplicate audience name']) {
      expect(answer(400, xErr('INVALID_PARAMETER', message), 'create_audience')).toBeInstanceOf(NameTakenError);
    }
  });

  it('not on other operations, nor for a missing or illegal name', () => {
    const body = xErr('INVALID_PARAMETER', 'name already used', { parameter: 'name' });
    expect(answer(400, body, 'send_users')).toBeInstanceOf(RejectedError);
    expect(answer(400, xErr('MISSING_PARAMETER', 'name is required', { parameter: 'name' }), 'create_audience')).toBeInstanceOf(RejectedError);
    expect(answer(400, xErr('INVALID_PARAMETER', 'Expected string for description'), 'create_audience')).toBeInstanceOf(RejectedError);
  });
});

describe('xError: rejected', () => {
  it('other 4xx, carrying operation_errors by operation position', () => {
    const e = answer(400, {
      errors: [{ code: 'INVALID_PARAMETER', message: 'bad users' }],
      operation_errors: [null, [{ code: 'MISSING_PARAMETER', message: 'users is required', parameter: 'users' }], []],
    });
    expect(e).toBeInstanceOf(RejectedError);
    expect(e.fate).toBe('rejected');
    expect((e as RejectedError).operationErrors).toEqual([{ operationIndex: 1, code: 'MISSING_PARAMETER', message: 'users is required' }]);
  });

  it('415 and 413 say what went wrong', () => {
    const e415 = answer(415, '');
    expect(e415).toBeInstanceOf(RejectedError);
    expect(e415.message).toContain('content type');
    expect((e415 as RejectedError).operationErrors).toEqual([]);
    expect(answer(413, 'too large').message).toContain('larger than X accepts');
  });

  it('non-JSON 4xx: status decides', () => {
    expect(answer(400, '<html>Bad Request</html>', 'create_audience')).toBeInstanceOf(RejectedError);
    expect(answer(405, xErr('METHOD_NOT_ALLOWED', 'no'))).toBeInstanceOf(RejectedError);
  });
});

/**
 * The one place where what X answered (or failed to answer) becomes a typed error with its fate.
 * The HTTP status decides first, because X's bodies are not always JSON (docs/reference/x-ads-api.md 8.1, 12.8);
 * the body's `code` and `parameter` then refine the message and a few cases.
 */
import {
  AudienceNotFoundError,
  NameTakenError,
  RateLimitedError,
  ReauthRequiredError,
  RejectedError,
  RetryableError,
  type OperationError,
  type SyncError,
} from '../core/errors.ts';

/** What the client was doing; decides 404 and name-taken handling and the wording. */
export type XOperation =
  | 'request_token'
  | 'access_token'
  | 'list_accounts'
  | 'get_user_access'
  | 'list_audiences'
  | 'get_audience'
  | 'create_audience'
  | 'update_audience'
  | 'delete_audience'
  | 'targeted'
  | 'send_users';

const DOING: Record<XOperation, string> = {
  request_token: 'starting the X login',
  access_token: 'finishing the X login',
  list_accounts: 'listing ad accounts',
  get_user_access: "reading the user's access to the ad account",
  list_audiences: 'listing custom audiences',
  get_audience: 'reading a custom audience',
  create_audience: 'creating a custom audience',
  update_audience: 'renaming a custom audience',
  delete_audience: 'deleting a custom audience',
  targeted: 'asking which campaigns target a custom audience',
  send_users: 'sending users to a custom audience',
};

/** Operations addressed to one audience: there, a 404 means the audience is gone. */
const ON_AN_AUDIENCE: ReadonlySet<XOperation> = new Set(['get_audience', 'update_audience', 'delete_audience', 'targeted', 'send_users']);

/** When X gave no reset time with a 429: one minute is the shortest window X uses (7.2). */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

export type HeaderSource = Headers | Readonly<Record<string, string | string[] | undefined>>;

export type XFailure =
  /** A non-2xx answer. */
  | { kind: 'response'; status: number; headers: HeaderSource; body: string }
  /** No answer: timeout, refused or reset connection, DNS, a body cut short. */
  | { kind: 'network'; error: unknown; timeoutMs?: number }
  /** A 2xx that cannot be used (not JSON, wrong shape). */
  | { kind: 'unusable'; status: number; reason: string; retry?: boolean }
  /** A `users` answer whose counts differ from the user objects sent: treated as not applied (3.6). */
  | { kind: 'count_mismatch'; status: number; successCount: number; totalCount: number; sent: number };

export interface XErrorContext {
  operation: XOperation;
  /** Epoch ms; for the 429 fallback reset. */
  now?: number;
}

/** X's error body, as far as it can be read. */
interface XErrorBody {
  code: string | undefined;
  message: string | undefined;
  parameter: string | undefined;
  operationErrors: OperationError[];
}

/** Maps an X failure to the typed error that carries its fate. */
export function xError(failure: XFailure, ctx: XErrorContext): SyncError {
  const doing = DOING[ctx.operation];
  switch (failure.kind) {
    case 'network':
      return networkError(failure.error, ctx.operation, failure.timeoutMs);
    case 'unusable': {
      const message = `X answered ${failure.status} while ${doing}, but ${failure.reason}`;
      return failure.retry === false
        ? new RejectedError(`${message}.`, { status: failure.status })
        : new RetryableError(`${message}; ${again(ctx.operation)}.`, { status: failure.status });
    }
    case 'count_mismatch': {
      const { successCount, totalCount, sent } = failure;
      const detail = totalCount === sent ? '' : ` (total_count ${totalCount})`;
      return new RetryableError(`X counted ${successCount} of ${sent} users${detail}; ${again(ctx.operation)}.`, {
        status: failure.status,
        code: 'COUNT_MISMATCH',
      });
    }
    case 'response':
      return responseError(failure, ctx, doing);
  }
}

function responseError(failure: Extract<XFailure, { kind: 'response' }>, ctx: XErrorContext, doing: string): SyncError {
  const { status, headers } = failure;
  const body = parseErrorBody(failure.body);
  const { code } = body;
  const said = body.message ? `: "${body.message}"` : '';
  const tag = code ? ` (${code})` : ` (HTTP ${status})`;
  const opts = { status, ...(code ? { code } : {}) };

  if (status === 429) {
    const now = ctx.now ?? Date.now();
    const reset = epochSecondsHeader(headers, 'x-account-rate-limit-reset') ?? epochSecondsHeader(headers, 'x-rate-limit-reset');
    const resetAt = reset ?? now + DEFAULT_RATE_LIMIT_WAIT_MS;
    const when = new Date(resetAt).toISOString();
    return new RateLimitedError(`X's rate limit was reached while ${doing}${tag}; sending resumes at ${when}.`, resetAt, opts);
  }

  if (status >= 500 || status === 408 || status === 423) {
    // 408 CANCELLED_REQUEST and 423 LOCK_ACQUISITION_TIMEOUT are X's own transient conditions:
    // dropping a batch for them would lose changes, so they retry like a 5xx.
    const retryAfterMs = retryAfterHeader(headers, ctx.now ?? Date.now());
    return new RetryableError(`X had a problem while ${doing}${tag}${said}; ${again(ctx.operation)}.`, {
      ...opts,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  if (status === 401 || status === 403) {
    return new ReauthRequiredError(`${reauthReason(status, code)}${tag}${said}. ${reauthAdvice(ctx.operation)}`, opts);
  }

  if (status === 404 && ON_AN_AUDIENCE.has(ctx.operation) && code !== 'ROUTE_NOT_FOUND') {
    // ROUTE_NOT_FOUND means the path itself is unknown (e.g. a retired API version), not that the
    // audience is gone; re-creating audiences for it would only make more of them.
    return new AudienceNotFoundError(`X says the custom audience no longer exists${tag}; it was probably deleted on X.`, opts);
  }

  if (status === 400 && (ctx.operation === 'create_audience' || ctx.operation === 'update_audience') && isNameTaken(body)) {
    return new NameTakenError(`X says the audience name is already used on this ad account${tag}${said}.`, opts);
  }

  return new RejectedError(`X rejected the request while ${doing}${tag}${said}${rejectHint(status)}.`, {
    ...opts,
    operationErrors: body.operationErrors,
  });
}

function reauthReason(status: number, code: string | undefined): string {
  switch (code) {
    case 'UNAUTHORIZED_ACCESS':
      return 'X says the access token is no longer valid';
    case 'ACCOUNT_NOT_FOUND':
      return 'X says this X login cannot reach the ad account';
    case 'UNAUTHORIZED_CLIENT_APPLICATION':
      return "X says Tailor's X app does not have access to the Ads API";
    case 'READONLY_CLIENT_APPLICATION':
      return "X says Tailor's X app has read-only access";
    default:
      return status === 401 ? 'X says the request is not authorized' : 'X refused access';
  }
}

function reauthAdvice(operation: XOperation): string {
  if (operation === 'request_token' || operation === 'access_token') {
    return "Check the app's consumer key and secret and that the login was completed, then log in again.";
  }
  return 'Someone needs to log in to X again with a user who can manage the ad account; until then nothing is sent to it.';
}

/** How a retry is announced: a `users` call is retried as a whole batch. */
function again(operation: XOperation): string {
  return operation === 'send_users' ? 'the batch will be sent again' : 'it will be tried again';
}

function rejectHint(status: number): string {
  if (status === 413) return '; the request body is larger than X accepts';
  if (status === 415) return '; X did not accept the content type of the request';
  return '';
}

const NAME_TAKEN = /\b(name)\b.*\b(taken|already|in use|exists?|unique|duplicate)\b|\bduplicate\b.*\bname\b/i;

/** Codes about the name that another name with a suffix would not fix. */
const NOT_A_TAKEN_NAME = new Set(['MISSING_PARAMETER', 'ILLEGAL_CHARACTERS']);

function isNameTaken(body: XErrorBody): boolean {
  if (body.code !== undefined && NOT_A_TAKEN_NAME.has(body.code)) return false;
  if (body.parameter === 'name') return true;
  return body.message !== undefined && NAME_TAKEN.test(body.message);
}

/** Reads X's `{"errors":[{code,message,parameter}],"operation_errors":[…]}`; tolerates anything. */
function parseErrorBody(text: string): XErrorBody {
  const out: XErrorBody = { code: undefined, message: undefined, parameter: undefined, operationErrors: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return out; // HTML error pages and the like: the status alone decides.
  }
  if (!isObject(json)) return out;
  const first = Array.isArray(json.errors) ? (json.errors as unknown[]).find(isObject) : undefined;
  if (first) {
    out.code = stringish(first.code);
    out.message = stringish(first.message);
    out.parameter = stringish(first.parameter);
  }
  out.operationErrors = parseOperationErrors(json.operation_errors);
  return out;
}

/**
 * `operation_errors` holds one entry per input operation (3.7): null or empty when the operation
 * was fine, otherwise an error object or a list of them.
 */
export function parseOperationErrors(value: unknown): OperationError[] {
  if (!Array.isArray(value)) return [];
  const out: OperationError[] = [];
  (value as unknown[]).forEach((entry, operationIndex) => {
    const errors = Array.isArray(entry) ? (entry as unknown[]) : [entry];
    for (const e of errors) {
      if (!isObject(e)) continue;
      out.push({
        operationIndex,
        code: stringish(e.code) ?? 'UNKNOWN',
        message: stringish(e.message) ?? stringish(e.details) ?? '',
      });
    }
  });
  return out;
}

function networkError(error: unknown, operation: XOperation, timeoutMs: number | undefined): RetryableError {
  const doing = DOING[operation];
  // AbortSignal.timeout rejects with a DOMException named TimeoutError; check the name, not the class.
  const name = isObject(error) && typeof error.name === 'string' ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    const within = timeoutMs !== undefined ? ` within ${timeoutMs} ms` : ' in time';
    return new RetryableError(`X did not answer${within} while ${doing}; ${again(operation)}.`, {
      code: 'TIMEOUT',
      cause: error,
    });
  }
  const code = errorCode(error);
  const what = code ?? (isObject(error) && typeof error.message === 'string' ? error.message : 'unknown error');
  return new RetryableError(`Could not reach X while ${doing} (${what}); ${again(operation)}.`, {
    ...(code ? { code } : {}),
    cause: error,
  });
}

/** `ECONNRESET`, `UND_ERR_SOCKET`, … from the error or its `cause` chain (fetch wraps them). */
function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; isObject(e) && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

export function getHeader(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** An epoch-seconds header as epoch ms, or undefined when absent or not a number. */
export function epochSecondsHeader(headers: HeaderSource, name: string): number | undefined {
  const raw = getHeader(headers, name)?.trim();
  if (!raw || !/^\d+(\.\d+)?$/.test(raw)) return undefined;
  return Math.round(Number(raw) * 1000);
}

/** `retry-after` in seconds or as an HTTP date, as milliseconds from now. */
function retryAfterHeader(headers: HeaderSource, now: number): number | undefined {
  const raw = getHeader(headers, 'retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function stringish(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/**
 * The closed set of errors on the sync path. Each carries its fate, so the worker decides what to
 * do from the type alone: wait, retry with backoff, pause the configuration, re-create the
 * downstream audience, pick another name, or record and drop.
 */

export type Fate =
  | 'rate_limited' // wait until resetAt, then retry the same batch
  | 'retry' // transient: retry the same batch with exponential backoff and jitter
  | 'reauth' // 401/403: pause the configuration until the user logs in again
  | 'not_found' // 404 on a downstream audience: re-create it and replay its members
  | 'name_taken' // create/rename: the name is used (or was used) on the account
  | 'rejected'; // other 4xx: record per item and drop

export abstract class SyncError extends Error {
  abstract readonly fate: Fate;
  /** HTTP status from X, when there was a response. */
  readonly status: number | undefined;
  /** X's error code (e.g. `TOO_MANY_REQUESTS`), when the body had one. */
  readonly code: string | undefined;

  constructor(message: string, opts: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.status = opts.status;
    this.code = opts.code;
  }
}

export class RateLimitedError extends SyncError {
  readonly fate = 'rate_limited' as const;
  /** Epoch milliseconds at which X's window resets. */
  readonly resetAt: number;
  constructor(message: string, resetAt: number, opts: { status?: number; code?: string } = {}) {
    super(message, opts);
    this.resetAt = resetAt;
  }
}

export class RetryableError extends SyncError {
  readonly fate = 'retry' as const;
  /** Set when X said how long to wait (503 `retry-after`), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { status?: number; code?: string; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, opts);
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export class ReauthRequiredError extends SyncError {
  readonly fate = 'reauth' as const;
}

export class AudienceNotFoundError extends SyncError {
  readonly fate = 'not_found' as const;
}

export class NameTakenError extends SyncError {
  readonly fate = 'name_taken' as const;
}

/** One error X reported for one operation of a `users` request (`operation_errors`), by position. */
export interface OperationError {
  operationIndex: number;
  code: string;
  message: string;
}

export class RejectedError extends SyncError {
  readonly fate = 'rejected' as const;
  /** X's per-operation errors, so each item can be recorded; empty when the body had none. */
  readonly operationErrors: OperationError[];
  constructor(message: string, opts: { status?: number; code?: string; cause?: unknown; operationErrors?: OperationError[] } = {}) {
    super(message, opts);
    this.operationErrors = opts.operationErrors ?? [];
  }
}

/**
 * The closed set of refusals outside the sync path, in Tailor's words rather than HTTP's: what a
 * service (adding a configuration), a REST handler or an import refuses. Each front end maps the
 * code once, exhaustively: the HTTP error handler to a status and the error envelope
 * (`src/http/errors.ts`), the CLI to a message and an exit code (`src/cli/refusal.ts`).
 */
export type RefusalCode =
  | 'not_found' // what the request names does not exist
  | 'in_use' // something still depends on it (connections on a configuration)
  | 'invalid' // the input itself is wrong (a file no import can read)
  | 'x_refused' // X answered and said no (tokens, permissions on the account)
  | 'x_unreachable'; // X could not be asked (timeout, 5xx, rate limit): the same request may pass later

export class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The store could not make a change durable (disk full, database unwritable): answered with 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

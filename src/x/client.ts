/**
 * Tailor's client for the X Ads API (v12) and X's OAuth 1.0a endpoints. Every call is signed,
 * bounded by a timeout, reports its rate-limit headers, and either returns checked data or throws
 * one of the typed errors of core/errors.ts (built by errors.ts), never anything else.
 *
 * Connections: Node's global fetch (undici) keeps connections alive and pools them per origin, so
 * consecutive calls to X reuse TLS sessions without an Agent of our own.
 */
import type * as z from 'zod';
import { AudienceNotFoundError } from '../core/errors.ts';
import { xError, parseOperationErrors, type XFailure, type XOperation } from './errors.ts';
import { percentEncode, signRequest, type OAuthCredentials, type Param } from './oauth.ts';
import { readRateLimit } from './rate-limit.ts';
import { schemas, toAccount, toAudience, toTargetingCampaign, toUserAccess } from './schemas.ts';
import type {
  AccessToken,
  CreateAudienceInput,
  ListAudiencesOptions,
  RateLimitInfo,
  RequestToken,
  UpdateAudienceInput,
  UsersRequest,
  UsersResult,
  XAccount,
  XAppCredentials,
  XCustomAudience,
  XTargetingCampaign,
  XUserAccess,
  XUserTokens,
} from './types.ts';
import { API_VERSION, LIST_MAX_COUNT } from './facts.ts';

/**
 * X usually answers in well under a second; a full 5 MB `users` body uploads in a few seconds on a
 * server link. 30 s leaves room for both while still freeing a worker stuck on a dead connection.
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The part of a pino logger the client uses. */
export interface XClientLogger {
  debug(obj: object, msg?: string): void;
}

export interface XClientOptions {
  /** e.g. `https://ads-api.x.com` */
  apiUrl: string;
  /** e.g. `https://api.x.com` */
  oauthUrl: string;
  app: XAppCredentials;
  timeoutMs?: number;
  /** Called with every response's rate-limit headers; `tokenKey` is the access token. */
  onRateLimit?: (tokenKey: string, info: RateLimitInfo) => void;
  logger?: XClientLogger;
  /** The clock, epoch ms; tests fix it. */
  now?: () => number;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Call {
  operation: XOperation;
  method: Method;
  url: URL;
  /** User (or request) token; absent only for `request_token`. */
  token?: OAuthCredentials;
  extraOAuth?: Record<string, string>;
  /** A JSON body: sent as is and kept out of the signature. */
  json?: string;
  accountId?: string;
}

interface Answer {
  status: number;
  text: string;
}

export class XClient {
  private readonly apiUrl: string;
  private readonly oauthUrl: string;
  private readonly consumer: OAuthCredentials;
  private readonly timeoutMs: number;
  private readonly onRateLimit: XClientOptions['onRateLimit'];
  private readonly logger: XClientLogger | undefined;
  private readonly now: () => number;

  constructor(opts: XClientOptions) {
    this.apiUrl = origin(opts.apiUrl, 'apiUrl');
    this.oauthUrl = origin(opts.oauthUrl, 'oauthUrl');
    this.consumer = { key: opts.app.consumerKey, secret: opts.app.consumerSecret };
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onRateLimit = opts.onRateLimit;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  // ---- OAuth 1.0a three-legged flow (9.1) ----

  /** Step 1: a request token, signed with the app's credentials only. */
  async requestToken(callbackUrl: string): Promise<RequestToken> {
    const operation = 'request_token';
    const answer = await this.call({
      operation,
      method: 'POST',
      url: this.url(this.oauthUrl, '/oauth/request_token'),
      extraOAuth: { oauth_callback: callbackUrl },
    });
    const form = new URLSearchParams(answer.text);
    const oauthToken = form.get('oauth_token');
    const oauthTokenSecret = form.get('oauth_token_secret');
    if (!oauthToken || !oauthTokenSecret) {
      throw this.unusable(operation, answer.status, 'its answer had no request token');
    }
    if (form.get('oauth_callback_confirmed') !== 'true') {
      throw xError(
        {
          kind: 'unusable',
          status: answer.status,
          reason: 'it did not confirm the callback URL; check that it is registered in the X app settings',
          retry: false,
        },
        { operation },
      );
    }
    return { oauthToken, oauthTokenSecret, callbackConfirmed: true };
  }

  /** Step 2: where to send the user; X always asks them to authorize. */
  authorizeUrl(oauthToken: string): string {
    return this.url(this.oauthUrl, '/oauth/authorize', [['oauth_token', oauthToken]]).href;
  }

  /** Step 3: the user's access token, from the request token and the verifier X returned. */
  async accessToken(requestToken: Pick<RequestToken, 'oauthToken' | 'oauthTokenSecret'>, verifier: string): Promise<AccessToken> {
    const operation = 'access_token';
    const answer = await this.call({
      operation,
      method: 'POST',
      // The verifier goes in the query, as X's reference shows; the request token in the header.
      url: this.url(this.oauthUrl, '/oauth/access_token', [['oauth_verifier', verifier]]),
      token: { key: requestToken.oauthToken, secret: requestToken.oauthTokenSecret },
    });
    const form = new URLSearchParams(answer.text);
    const accessToken = form.get('oauth_token');
    const accessTokenSecret = form.get('oauth_token_secret');
    const userId = form.get('user_id');
    if (!accessToken || !accessTokenSecret || !userId) {
      throw this.unusable(operation, answer.status, 'its answer had no access token');
    }
    return { accessToken, accessTokenSecret, userId, screenName: form.get('screen_name') ?? '' };
  }

  // ---- Accounts (9.4) ----

  /** Every ad account the X login can reach. */
  async listAccounts(tokens: XUserTokens): Promise<XAccount[]> {
    const pages = await this.paginate(tokens, 'list_accounts', this.apiPath('accounts'), [], schemas.accountPage);
    return pages.map(toAccount);
  }

  /** The X login's permissions on one ad account. */
  async getUserAccess(tokens: XUserTokens, accountId: string): Promise<XUserAccess> {
    const operation = 'get_user_access';
    const answer = await this.call({
      operation,
      method: 'GET',
      url: this.url(this.apiUrl, this.apiPath('accounts', accountId, 'authenticated_user_access')),
      token: userToken(tokens),
      accountId,
    });
    return toUserAccess(this.parse(operation, answer, schemas.userAccess).data);
  }

  // ---- Custom audiences (2.3 to 2.7) ----

  async listAudiences(tokens: XUserTokens, accountId: string, opts: ListAudiencesOptions = {}): Promise<XCustomAudience[]> {
    const query: Param[] = [];
    if (opts.q !== undefined) query.push(['q', opts.q]);
    if (opts.withDeleted) query.push(['with_deleted', 'true']);
    const path = this.apiPath('accounts', accountId, 'custom_audiences');
    const items = await this.paginate(tokens, 'list_audiences', path, query, schemas.audiencePage, accountId);
    return items.map(toAudience);
  }

  /** One audience. A deleted one is an AudienceNotFoundError unless `withDeleted` is set. */
  async getAudience(tokens: XUserTokens, accountId: string, id: string, opts: { withDeleted?: boolean } = {}): Promise<XCustomAudience> {
    const query: Param[] = opts.withDeleted ? [['with_deleted', 'true']] : [];
    return this.audienceCall(tokens, 'get_audience', 'GET', accountId, id, query);
  }

  /** Creates an empty audience. A name already used on the account is a NameTakenError. */
  async createAudience(tokens: XUserTokens, accountId: string, input: CreateAudienceInput): Promise<XCustomAudience> {
    const query: Param[] = [['name', input.name]];
    if (input.description !== undefined) query.push(['description', input.description]);
    return this.audienceCall(tokens, 'create_audience', 'POST', accountId, undefined, query);
  }

  /** Renames or re-describes an audience; only the fields given change. */
  async updateAudience(tokens: XUserTokens, accountId: string, id: string, input: UpdateAudienceInput): Promise<XCustomAudience> {
    const query: Param[] = [];
    if (input.name !== undefined) query.push(['name', input.name]);
    if (input.description !== undefined) query.push(['description', input.description]);
    return this.audienceCall(tokens, 'update_audience', 'PUT', accountId, id, query);
  }

  async deleteAudience(tokens: XUserTokens, accountId: string, id: string): Promise<void> {
    try {
      await this.audienceCall(tokens, 'delete_audience', 'DELETE', accountId, id, []);
    } catch (error) {
      // 404: the audience is already gone (deleted by hand, or our earlier DELETE landed and only
      // its answer was lost). Deleting is what we wanted, so that is success, not an error.
      if (error instanceof AudienceNotFoundError) return;
      throw error;
    }
  }

  /**
   * The campaigns whose active line items target an audience (2.8 `targeted?with_active=true`),
   * every page. Asked before deleting an audience (the campaign guard).
   */
  async targetedCampaigns(tokens: XUserTokens, accountId: string, id: string): Promise<XTargetingCampaign[]> {
    const path = this.apiPath('accounts', accountId, 'custom_audiences', id, 'targeted');
    const items = await this.paginate(tokens, 'targeted', path, [['with_active', 'true']], schemas.targetedPage, accountId, false);
    return items.map(toTargetingCampaign);
  }

  // ---- Users (3) ----

  /**
   * Sends one packed request. X applies it whole or not at all; the counts must match the user
   * objects sent, or the batch is treated as not applied and must be sent again.
   */
  async sendUsers(tokens: XUserTokens, accountId: string, audienceId: string, request: UsersRequest): Promise<UsersResult> {
    const sent = request.changes.length; // one user object per change (pack.ts)
    if (sent === 0) return { successCount: 0, totalCount: 0, operationErrors: [] };
    const operation = 'send_users';
    const answer = await this.call({
      operation,
      method: 'POST',
      url: this.url(this.apiUrl, this.apiPath('accounts', accountId, 'custom_audiences', audienceId, 'users')),
      token: userToken(tokens),
      json: request.body,
      accountId,
    });
    const parsed = this.parse(operation, answer, schemas.users);
    const { success_count: successCount, total_count: totalCount } = parsed.data;
    if (successCount !== sent || totalCount !== sent) {
      throw xError({ kind: 'count_mismatch', status: answer.status, successCount, totalCount, sent }, { operation });
    }
    return { status: answer.status, successCount, totalCount, operationErrors: parseOperationErrors(parsed.operation_errors) };
  }

  // ---- plumbing ----

  private async audienceCall(
    tokens: XUserTokens,
    operation: XOperation,
    method: Method,
    accountId: string,
    id: string | undefined,
    query: Param[],
  ): Promise<XCustomAudience> {
    const segments = id === undefined ? ['accounts', accountId, 'custom_audiences'] : ['accounts', accountId, 'custom_audiences', id];
    const answer = await this.call({
      operation,
      method,
      url: this.url(this.apiUrl, this.apiPath(...segments), query),
      token: userToken(tokens),
      accountId,
    });
    return toAudience(this.parse(operation, answer, schemas.audience).data);
  }

  /** Follows `next_cursor` (2.1) until X says there is no next page. */
  private async paginate<T>(
    tokens: XUserTokens,
    operation: XOperation,
    path: string,
    query: Param[],
    schema: z.ZodType<{ data: T[]; next_cursor?: string | null | undefined }>,
    accountId?: string,
    /** `count` (2.1) where the endpoint documents it; `targeted` (2.8) takes only a cursor. */
    withCount = true,
  ): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (;;) {
      const pageQuery: Param[] = withCount ? [...query, ['count', String(LIST_MAX_COUNT)]] : [...query];
      if (cursor !== undefined) pageQuery.push(['cursor', cursor]);
      const answer = await this.call({
        operation,
        method: 'GET',
        url: this.url(this.apiUrl, path, pageQuery),
        token: userToken(tokens),
        ...(accountId !== undefined ? { accountId } : {}),
      });
      const page = this.parse(operation, answer, schema);
      items.push(...page.data);
      const next = page.next_cursor;
      if (next === null || next === undefined || next === '') return items;
      // A cursor seen before would loop forever.
      if (seen.has(next)) throw this.unusable(operation, answer.status, 'it returned a page cursor it had already given');
      seen.add(next);
      cursor = next;
    }
  }

  /** One signed HTTP exchange; non-2xx answers and transport failures become typed errors. */
  private async call(call: Call): Promise<Answer> {
    const { authorization } = signRequest({
      method: call.method,
      url: call.url,
      consumer: this.consumer,
      ...(call.token ? { token: call.token } : {}),
      ...(call.extraOAuth ? { extraOAuth: call.extraOAuth } : {}),
    });
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (call.json !== undefined) headers['content-type'] = 'application/json';

    const started = this.now();
    let status: number;
    let text: string;
    let responseHeaders: Headers;
    try {
      const res = await fetch(call.url, {
        method: call.method,
        headers,
        body: call.json ?? null,
        // Covers the body too: the signal stays armed while the answer is read.
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      responseHeaders = res.headers;
      text = await res.text();
    } catch (error) {
      this.log(call, { error: errorName(error), ms: this.now() - started });
      throw xError({ kind: 'network', error, timeoutMs: this.timeoutMs }, { operation: call.operation, now: this.now() });
    }
    this.log(call, { status, ms: this.now() - started });
    this.reportRateLimit(call, responseHeaders);

    if (status < 200 || status > 299) {
      const failure: XFailure = { kind: 'response', status, headers: responseHeaders, body: text };
      throw xError(failure, { operation: call.operation, now: this.now() });
    }
    return { status, text };
  }

  private parse<T>(operation: XOperation, answer: Answer, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw this.unusable(operation, answer.status, 'its answer was not JSON');
    }
    const result = schema.safeParse(json);
    if (!result.success) throw this.unusable(operation, answer.status, 'its answer did not have the expected shape');
    return result.data;
  }

  private unusable(operation: XOperation, status: number, reason: string) {
    return xError({ kind: 'unusable', status, reason }, { operation });
  }

  private reportRateLimit(call: Call, headers: Headers): void {
    // OAuth endpoints are limited per app, not per user token; nothing to report against a token.
    if (!this.onRateLimit || !call.token || call.operation === 'access_token') return;
    const info = readRateLimit(headers);
    if (!info) return;
    if (call.accountId !== undefined) info.accountId = call.accountId;
    try {
      this.onRateLimit(call.token.key, info);
    } catch (error) {
      // A failing observer must not turn a good answer into a failed call.
      this.logger?.debug({ error: errorName(error) }, 'onRateLimit threw');
    }
  }

  /** Method, path and outcome only: never tokens, query values or bodies. */
  private log(call: Call, fields: Record<string, unknown>): void {
    this.logger?.debug({ op: call.operation, method: call.method, path: call.url.pathname, ...fields }, 'x call');
  }

  private apiPath(...segments: string[]): string {
    return `/${API_VERSION}/${segments.map(percentEncode).join('/')}`;
  }

  /** Query values are percent-encoded exactly as they are signed (`:` → `%3A`, `,` → `%2C`). */
  private url(base: string, path: string, query: readonly Param[] = []): URL {
    const qs = query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
    return new URL(`${base}${path}${qs ? `?${qs}` : ''}`);
  }
}

function userToken(tokens: XUserTokens): OAuthCredentials {
  return { key: tokens.accessToken, secret: tokens.accessTokenSecret };
}

/** The base URL without a trailing slash; a bad URL is a configuration error, found at start-up. */
function origin(raw: string, name: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`${name} is not a URL: ${raw}`);
  }
  return url.href.replace(/\/+$/, '');
}

function errorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; code?: unknown };
    return [e.name, e.code].filter((x) => typeof x === 'string').join(' ');
  }
  return typeof error;
}

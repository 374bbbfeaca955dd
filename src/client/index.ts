/**
 * The typed client of Tailor's REST API, for programs that integrate with it:
 *
 *   import { TailorClient, TailorApiError } from 'tailor/client';
 *   const tailor = new TailorClient({ baseUrl: 'https://tailor.example.com', token: process.env.TAILOR_ADMIN_TOKEN! });
 *   await tailor.putAudience('newsletter', { name: 'Newsletter' });
 *
 * Its types are generated from the OpenAPI document (`GET /api/v1/openapi.json`) into
 * `openapi.ts` by `npm run openapi:types`; this file adds only the fetch wrapper: the bearer token,
 * the error envelope (`{"error":{"code","message"}}`) thrown as a `TailorApiError`, and cursor paging
 * (`pages`, `each`). It uses the platform's `fetch` (Node 20+, browsers) and imports nothing else.
 */
import type { components, paths } from './openapi.ts';

export type { components, paths } from './openapi.ts';

/** The API's named schemas: `Schemas['Audience']`, `Schemas['Configuration']`, … */
export type Schemas = components['schemas'];
/** One of the closed set of error codes, one per HTTP status. */
export type ApiErrorCode = Schemas['Error']['error']['code'];

export type Method = 'get' | 'put' | 'post' | 'delete';
/** The paths that answer `method`. */
export type PathsWith<M extends Method> = { [P in keyof paths]: paths[P] extends Record<M, object> ? P : never }[keyof paths];
type Operation<P extends keyof paths, M extends Method> = paths[P] extends Record<M, infer O> ? O : never;

type Json<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;
type SuccessStatus = 200 | 201 | 202 | 204;
/** What a call answers on success: the union of its 2xx bodies (undefined for a 204). */
export type Answer<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { responses: infer R } ? { [S in keyof R & SuccessStatus]: Json<R[S]> }[keyof R & SuccessStatus] : never;

type PathParams<O> = O extends { parameters: { path: infer X } } ? ([X] extends [undefined] ? never : X) : never;
type QueryParams<O> = O extends { parameters: { query?: infer Q } } ? ([Q] extends [undefined] ? never : Q) : never;
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** A call's inputs: `path` for `{params}` in the path, `query`, and the JSON `body`, as the operation takes them. */
export type CallInput<P extends keyof paths, M extends Method> = ([PathParams<Operation<P, M>>] extends [never]
  ? { path?: never }
  : { path: PathParams<Operation<P, M>> }) &
  ([QueryParams<Operation<P, M>>] extends [never] ? { query?: never } : { query?: QueryParams<Operation<P, M>> }) &
  ([BodyOf<Operation<P, M>>] extends [never] ? { body?: never } : { body?: BodyOf<Operation<P, M>> });

/**
 * A refusal from Tailor: the error envelope, with its HTTP status and the request id to find the
 * log line. `code` is null when the answer was not Tailor's envelope (a proxy's error page, say).
 */
export class TailorApiError extends Error {
  override readonly name = 'TailorApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | null,
    message: string,
    readonly details: unknown,
    readonly requestId: string | null,
  ) {
    super(message);
  }
}

export interface TailorClientOptions {
  /** Where Tailor listens, e.g. `http://127.0.0.1:8080` (the path `/api/v1/…` is added). */
  baseUrl: string;
  /** TAILOR_ADMIN_TOKEN, sent as `Authorization: Bearer …`. */
  token: string;
  /** A fetch of your own (a proxy, a test double); the global one when absent. */
  fetch?: typeof fetch;
  /** Headers sent with every call (an `X-Request-Id`, say). */
  headers?: Record<string, string>;
}

/** A page of a listing that pages by cursor: `next_cursor` is null on the last page. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
/** The GET paths that answer a cursor page. */
export type PagedPath = { [P in PathsWith<'get'>]: Answer<P, 'get'> extends Page<unknown> ? P : never }[PathsWith<'get'>];
type ItemOf<P extends PagedPath> = Answer<P, 'get'> extends Page<infer T> ? T : never;
/** A paged listing's query, its cursor included (to start from a page already seen). */
export type PageQuery<P extends PagedPath> = Omit<NonNullable<QueryParams<Operation<P, 'get'>>>, 'cursor'> & { cursor?: string };

export class TailorClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TailorClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Any call of the API, typed by its path and method; throws a `TailorApiError` on a 4xx or 5xx. */
  async request<P extends PathsWith<M>, M extends Method>(method: M, path: P, input?: CallInput<P, M>): Promise<Answer<P, M>> {
    const given = (input ?? {}) as { path?: Record<string, string>; query?: Record<string, unknown>; body?: unknown };
    const url = new URL(this.base + path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(String(given.path?.[name] ?? ''))));
    for (const [k, v] of Object.entries(given.query ?? {}))
      if (v !== undefined && v !== null) url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers, authorization: `Bearer ${this.options.token}` };
    if (given.body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.fetch(url, {
      method: method.toUpperCase(),
      headers,
      body: given.body === undefined ? undefined : JSON.stringify(given.body),
    });
    const text = await res.text();
    if (!res.ok) throw errorOf(res, text);
    return (text === '' ? undefined : JSON.parse(text)) as Answer<P, M>;
  }

  /** Every page of a cursor listing, in order, from the first (or from `query.cursor`). */
  async *pages<P extends PagedPath>(path: P, query?: PageQuery<P>): AsyncGenerator<Page<ItemOf<P>>> {
    let cursor: string | undefined = query?.cursor;
    for (;;) {
      const input = { query: { ...query, cursor } } as unknown as CallInput<P, 'get'>;
      const page = (await this.request('get', path, input)) as unknown as Page<ItemOf<P>>;
      yield page;
      if (page.next_cursor === null || page.next_cursor === undefined) return;
      cursor = page.next_cursor;
    }
  }

  /** Every item of a cursor listing, page after page. */
  async *each<P extends PagedPath>(path: P, query?: PageQuery<P>): AsyncGenerator<ItemOf<P>> {
    for await (const page of this.pages(path, query)) yield* page.data;
  }

  // The routes, one method each.

  listConfigurations(): Promise<Schemas['Configuration'][]> {
    return this.request('get', '/api/v1/configurations').then((r) => r.data);
  }
  /** Adds an X ad account (checked with X first); an account already there gets the new tokens. */
  addConfiguration(body: CallInput<'/api/v1/configurations', 'post'>['body'] & object): Promise<Schemas['Configuration']> {
    return this.request('post', '/api/v1/configurations', { body });
  }
  async deleteConfiguration(id: string): Promise<void> {
    await this.request('delete', '/api/v1/configurations/{id}', { path: { id } });
  }

  listAudiences(): Promise<Schemas['Audience'][]> {
    return this.request('get', '/api/v1/audiences').then((r) => r.data);
  }
  getAudience(audienceId: string): Promise<Schemas['Audience']> {
    return this.request('get', '/api/v1/audiences/{audienceId}', { path: { audienceId } });
  }
  audienceHistory(audienceId: string): Promise<Schemas['History']> {
    return this.request('get', '/api/v1/audiences/{audienceId}/history', { path: { audienceId } });
  }
  /** Creates or renames an audience. */
  putAudience(audienceId: string, body: { name: string }): Promise<Schemas['Audience']> {
    return this.request('put', '/api/v1/audiences/{audienceId}', { path: { audienceId }, body });
  }
  deleteAudience(audienceId: string): Promise<Answer<'/api/v1/audiences/{audienceId}', 'delete'>> {
    return this.request('delete', '/api/v1/audiences/{audienceId}', { path: { audienceId } });
  }
  /** Adds and removes members; answered once the change is stored. */
  changeMembers(
    audienceId: string,
    body: CallInput<'/api/v1/audiences/{audienceId}/members', 'post'>['body'] & object,
  ): Promise<Answer<'/api/v1/audiences/{audienceId}/members', 'post'>> {
    return this.request('post', '/api/v1/audiences/{audienceId}/members', { path: { audienceId }, body });
  }
  /** Connects an audience to a configuration, or changes which identity types it forwards. */
  connect(
    audienceId: string,
    configurationId: string,
    body?: CallInput<'/api/v1/audiences/{audienceId}/connections/{configurationId}', 'put'>['body'],
  ): Promise<Schemas['Audience']> {
    return this.request('put', '/api/v1/audiences/{audienceId}/connections/{configurationId}', { path: { audienceId, configurationId }, body });
  }
  async disconnect(audienceId: string, configurationId: string): Promise<void> {
    await this.request('delete', '/api/v1/audiences/{audienceId}/connections/{configurationId}', { path: { audienceId, configurationId } });
  }
  firehose(): Promise<Answer<'/api/v1/firehose', 'get'>> {
    return this.request('get', '/api/v1/firehose');
  }
  /** One page of the audit log, newest first; `each('/api/v1/audit')` walks every page. */
  audit(query?: PageQuery<'/api/v1/audit'>): Promise<Schemas['AuditPage']> {
    return this.request('get', '/api/v1/audit', { query });
  }
}

function errorOf(res: Response, text: string): TailorApiError {
  const requestId = res.headers.get('x-request-id');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (body.error && typeof body.error.code === 'string' && typeof body.error.message === 'string')
      return new TailorApiError(res.status, body.error.code as ApiErrorCode, body.error.message, body.error.details, requestId);
  } catch {
    // not the envelope: a proxy's page, say
  }
  return new TailorApiError(res.status, null, `HTTP ${res.status}: ${text.slice(0, 200)}`, undefined, requestId);
}

/**
 * Test helpers that talk to the emulator the way any X client would: over HTTP on 127.0.0.1,
 * signing with the tests' one independent signer (test/support/oauth.ts), never with the
 * emulator's own OAuth code.
 */
import { createHash } from 'node:crypto';
import type OAuth from 'oauth-1.0a';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { testSigner } from '../support/oauth.ts';

export interface Credentials {
  consumer_key: string;
  consumer_secret: string;
  users: Array<{
    user_id: string;
    screen_name: string;
    access_token: string;
    access_token_secret: string;
    accounts: Array<{ id: string; name: string; permissions: string[] }>;
  }>;
}

export type Login = Credentials['users'][number];

export interface Token {
  key: string;
  secret: string;
}

export interface Bench {
  x: RunningEmulator;
  url: string;
  creds: Credentials;
  admin: Login;
  analyst: Login;
  manager: Login;
  other: Login;
  adminToken: Token;
  /** The admin's first and second accounts. */
  account: string;
  secondAccount: string;
  /** An account the admin cannot reach. */
  foreignAccount: string;
}

export async function boot(opts: EmulatorOptions = {}): Promise<Bench> {
  const x = await startEmulator({ populationSize: 1000, sizingDelayMs: 60_000, ...opts });
  const creds = (await (await fetch(`${x.url}/_emulator/credentials`)).json()) as Credentials;
  const find = (permission: string, accounts: number): Login => {
    const login = creds.users.find((u) => u.accounts.length === accounts && u.accounts.some((a) => a.permissions.includes(permission)));
    if (!login) throw new Error(`no login with ${permission} on ${accounts} account(s)`);
    return login;
  };
  const admin = find('ACCOUNT_ADMIN', 2);
  const other = creds.users.find((u) => u.screen_name === 'other_admin')!;
  return {
    x,
    url: x.url,
    creds,
    admin,
    analyst: find('CAMPAIGN_ANALYST', 1),
    manager: find('AD_MANAGER', 1),
    other,
    adminToken: tokenOf(admin),
    account: admin.accounts[0]!.id,
    secondAccount: admin.accounts[1]!.id,
    foreignAccount: other.accounts[0]!.id,
  };
}

export function tokenOf(login: Login): Token {
  return { key: login.access_token, secret: login.access_token_secret };
}

export interface CallOptions {
  token?: Token;
  query?: Record<string, string>;
  /** Signed form parameters, sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as application/json and NOT signed. */
  json?: unknown;
  /** A raw body with its content type, not signed. */
  raw?: { body: string | Buffer; contentType: string };
  nonce?: string;
  /** Epoch seconds to sign with. */
  timestamp?: number;
  /** Sign with the wrong consumer secret. */
  wrongSecret?: boolean;
  /** Sign with another consumer key. */
  consumerKey?: string;
  /** No Authorization header at all. */
  unsigned?: boolean;
}

/**
 * A parsed JSON answer. Tests assert its shape with expect(...), so it is left untyped here
 * rather than re-declaring every X answer the emulator gives.
 */
export type Json = any;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

/** GET a back-door URL and parse its JSON. */
export async function getJson(url: string): Promise<Json> {
  return (await fetch(url)).json();
}

export function signer(bench: Pick<Bench, 'creds'>, opts: Pick<CallOptions, 'nonce' | 'timestamp' | 'wrongSecret' | 'consumerKey'> = {}): OAuth {
  return testSigner(
    { key: opts.consumerKey ?? bench.creds.consumer_key, secret: opts.wrongSecret ? 'not-the-secret' : bench.creds.consumer_secret },
    { nonce: opts.nonce, timestamp: opts.timestamp },
  );
}

/** One signed X call. Paths are relative to the emulator, e.g. "/12/accounts". */
export async function call(bench: Pick<Bench, 'url' | 'creds'>, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const qs =
    opts.query && Object.keys(opts.query).length > 0
      ? `?${Object.entries(opts.query)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join('&')}`
      : '';
  const url = `${bench.url}${path}${qs}`;
  const headers: Record<string, string> = {};
  let body: string | Buffer | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.raw) {
    headers['content-type'] = opts.raw.contentType;
    body = opts.raw.body;
  }
  if (!opts.unsigned) {
    const oauth = signer(bench, opts);
    const auth = oauth.authorize({ url, method, data: opts.form ?? {} }, opts.token);
    headers.authorization = oauth.toHeader(auth).Authorization;
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (form-encoded OAuth answers, HTML pages): the text is there.
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** A back-door call (no OAuth). */
export async function backdoor(bench: Pick<Bench, 'url'>, method: string, path: string, json?: unknown): Promise<Answer> {
  const res = await fetch(`${bench.url}${path}`, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) };
}

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export const UNAUTHORIZED = {
  errors: [{ code: 'UNAUTHORIZED_ACCESS', message: 'This request is not properly authenticated' }],
  request: { params: {} },
};

/** Creates an audience as the admin and returns its id. */
export async function createAudience(bench: Bench, name: string, account = bench.account): Promise<string> {
  const res = await call(bench, 'POST', `/12/accounts/${account}/custom_audiences`, { token: bench.adminToken, query: { name } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.body.data.id as string;
}

export function usersPath(bench: Bench, id: string, account = bench.account): string {
  return `/12/accounts/${account}/custom_audiences/${id}/users`;
}

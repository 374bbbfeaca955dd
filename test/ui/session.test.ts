import type { FastifyRequest } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { originOf, parseCookies, SESSION_COOKIE, SESSION_TTL_MS, SessionKeys } from '../../src/server/session.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

const TOKEN = 'ui-admin-token-0123456789';
const store = SqliteStore.open(':memory:');
afterAll(async () => store.close());

function req(headers: Record<string, string>, method = 'GET', protocol: 'http' | 'https' = 'http'): FastifyRequest {
  return { headers, method, protocol } as unknown as FastifyRequest;
}

describe('UI session cookie', () => {
  it('accepts its own cookie and refuses a tampered, foreign or expired one', async () => {
    let now = 1_700_000_000_000;
    const keys = new SessionKeys(TOKEN, store, () => now);
    const { value, session } = await keys.issue();
    expect(await keys.read(req({ cookie: `${SESSION_COOKIE}=${value}` }))).toEqual(session);

    const [sid, exp, mac] = value.split('.') as [string, string, string];
    const later = (parseInt(exp, 36) + 3_600_000).toString(36);
    expect(await keys.read(req({ cookie: `${SESSION_COOKIE}=${sid}.${later}.${mac}` }))).toBeNull();
    expect(await keys.read(req({ cookie: `${SESSION_COOKIE}=${sid}x.${exp}.${mac}` }))).toBeNull();
    // Another admin token (another installation, or a rotated token) signs differently, over the same database.
    expect(await new SessionKeys('another-admin-token-000000', store, () => now).read(req({ cookie: `${SESSION_COOKIE}=${value}` }))).toBeNull();

    now += SESSION_TTL_MS;
    expect(await keys.read(req({ cookie: `${SESSION_COOKIE}=${value}` }))).toBeNull();
  });

  it('ends a session in the database: its cookie and CSRF token are worth nothing afterwards', async () => {
    const keys = new SessionKeys(TOKEN, store);
    const { value, session } = await keys.issue();
    const cookie = `${SESSION_COOKIE}=${value}`;
    const other = await keys.issue();
    await keys.end(session);
    expect(await keys.read(req({ cookie }))).toBeNull();
    expect(await keys.alive(session.sid)).toBe(false);
    expect(await keys.allowsApi(req({ cookie }))).toBe(false);
    expect(await keys.allowsApi(req({ cookie, 'x-csrf-token': keys.csrfToken(session) }, 'PUT'))).toBe(false);
    // Other sessions go on.
    expect(await keys.read(req({ cookie: `${SESSION_COOKIE}=${other.value}` }))).toEqual(other.session);
  });

  it('stores a keyed hash of the session id, never the id or the cookie', async () => {
    const keys = new SessionKeys(TOKEN, store);
    const { value, session } = await keys.issue();
    const raw = (store as unknown as { db: { prepare(sql: string): { all(): unknown[] } } }).db.prepare('SELECT * FROM ui_sessions').all();
    const text = JSON.stringify(raw);
    expect(raw.length).toBeGreaterThan(0);
    expect(text).not.toContain(session.sid);
    expect(text).not.toContain(value.split('.')[2]!);
  });

  it('grants a single-use step once, per purpose', async () => {
    const keys = new SessionKeys(TOKEN, store);
    const exp = Date.now() + 60_000;
    expect(await keys.useOnce('step-a', 'n1', exp)).toBe(true);
    expect(await keys.useOnce('step-a', 'n1', exp)).toBe(false);
    expect(await keys.useOnce('step-b', 'n1', exp)).toBe(true);
  });

  it('lets a session read /api/v1 but write only with its CSRF token', async () => {
    const keys = new SessionKeys(TOKEN, store);
    const { value, session } = await keys.issue();
    const cookie = `${SESSION_COOKIE}=${value}`;
    const csrf = keys.csrfToken(session);
    expect(await keys.allowsApi(req({ cookie }))).toBe(true);
    expect(await keys.allowsApi(req({ cookie }, 'PUT'))).toBe(false);
    expect(await keys.allowsApi(req({ cookie, 'x-csrf-token': 'nope' }, 'PUT'))).toBe(false);
    expect(await keys.allowsApi(req({ cookie, 'x-csrf-token': csrf }, 'DELETE'))).toBe(true);
    // Another session's token does not fit.
    expect(keys.checkCsrf((await keys.issue()).session, csrf)).toBe(false);
    expect(await keys.allowsApi(req({ 'x-csrf-token': csrf }, 'PUT'))).toBe(false);
  });

  it('seals values for one purpose only and detects tampering', () => {
    const keys = new SessionKeys(TOKEN, store);
    const sealed = keys.seal('x-login-v1', { a: 1 });
    expect(keys.open('x-login-v1', sealed)).toEqual({ a: 1 });
    expect(keys.open('other', sealed)).toBeNull();
    expect(keys.open('x-login-v1', `${sealed.slice(0, -2)}AA`)).toBeNull();
    expect(new SessionKeys('another-admin-token-000000', store).open('x-login-v1', sealed)).toBeNull();
    expect(JSON.stringify(sealed)).not.toContain('"a"');
  });

  it('checks the admin token in constant time and never accepts an empty one', () => {
    expect(new SessionKeys(TOKEN, store).checkAdminToken(TOKEN)).toBe(true);
    expect(new SessionKeys(TOKEN, store).checkAdminToken(`${TOKEN}x`)).toBe(false);
    expect(new SessionKeys('', store).checkAdminToken('')).toBe(false);
  });

  it('parses cookies, first value winning', () => {
    expect(parseCookies('a=1; b=2; a=3;c')).toEqual(
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
    );
  });

  it('builds the callback origin from TAILOR_PUBLIC_URL, else from a well-formed Host', () => {
    expect(originOf(req({ host: '127.0.0.1:8080' }), null)).toBe('http://127.0.0.1:8080');
    expect(originOf(req({ host: 'tailor.example.com' }, 'GET', 'https'), null)).toBe('https://tailor.example.com');
    expect(originOf(req({ host: '[::1]:8080' }), null)).toBe('http://[::1]:8080');
    // A Docker Compose service name, as the Host check accepts it (core/hosts.ts).
    expect(originOf(req({ host: 'tailor_web:8080' }), null)).toBe('http://tailor_web:8080');
    expect(originOf(req({ host: 'evil.com:8080@x' }), null)).toBeNull();
    expect(originOf(req({ host: 'evil.com/path' }), null)).toBeNull();
    expect(originOf(req({ host: 'a b' }), null)).toBeNull();
    expect(originOf(req({}), null)).toBeNull();
    expect(originOf(req({ host: 'internal:8080' }), 'https://tailor.example.com/base')).toBe('https://tailor.example.com');
  });
});

/**
 * Access control and secrets (issue 7), in process (`buildServer` over a temporary SQLite store,
 * the X emulator behind it):
 * - every route the app has (read from fastify's own route table, so a route added later is
 *   covered without editing this file) refuses a caller without credentials, or with a wrong
 *   token or a forged cookie, unless it is on the short public list below with its reason (every
 *   spelling of each path, over real sockets: route-table.test.ts);
 * - UI pages carry the security headers;
 * - secrets are compared in constant time (`secretsEqual`), and no `===` compares a secret in src/;
 * - X tokens are unreadable in the database without TAILOR_SECRET_KEY (the raw rows are read).
 * The X login's callback (mismatched `oauth_token`, replays) is tested in test/ui/security.test.ts;
 * sign-out, a changed admin token and single-use X login steps in test/security/sessions.test.ts.
 */
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/core/secret-box.ts';
import { buildServer } from '../../src/server/app.ts';
import { secretsEqual } from '../../src/http/auth.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { Emu } from '../e2e/harness.ts';
import { testServices } from '../support/services.ts';
import { printedRoutes } from '../support/routes.ts';
import { signInCookie } from '../support/sign-in.ts';

const TOKEN = 'access-test-admin-token-0123456789';
const SECRET_KEY = 'access-test-secret-key-0123456789abcdef';
const FIREHOSE_TOKEN = 'access-test-firehose-token';

/**
 * Routes open without credentials, each for a reason. Anything else must answer 401, or, for a
 * UI page, send the browser to sign-in.
 */
const PUBLIC: { route: RegExp; why: string; expect: (status: number, res: { headers: Record<string, unknown> }) => boolean; names?: true }[] = [
  { route: /^(GET|HEAD) \/(healthz|readyz)$/, why: 'health checks for load balancers: no data', expect: (s) => s === 200 || s === 503 },
  { route: /^(GET|HEAD) \/metrics$/, why: 'Prometheus: counts and ids, never identifiers or tokens (src/server/metrics.ts)', expect: (s) => s === 200 },
  {
    route: /^POST \/firehose$/,
    why: 'mParticle registration needs no token; every other message needs TAILOR_FIREHOSE_TOKEN when set (below)',
    expect: (s) => s === 200 || s === 400 || s === 401,
  },
  { route: /^(GET|HEAD|POST) \/sign-in$/, why: 'the sign-in page and form', expect: (s) => s === 200 || s === 401 || s === 403 },
  { route: /^(GET|HEAD) \/assets\/:file$/, why: 'static files of the UI, no data', expect: (s) => s === 200 || s === 404 },
  {
    route: /^POST \/sign-out$/,
    why: 'clears the cookie; needs the session and its CSRF token to do anything',
    expect: (s) => s === 303 || s === 403 || s === 401,
  },
  {
    route: /^(GET|HEAD) \/oauth\/x\/callback$/,
    why: 'X redirects the browser here; refused without the flow cookie issued at start',
    expect: (s) => s === 400,
  },
  // `names`: the document names the API's fields (`access_token` among them), never a value.
  {
    route: /^(GET|HEAD) \/api\/v1\/openapi\.json$/,
    why: 'the API’s OpenAPI document: routes and shapes, no data (src/server/openapi.ts)',
    expect: (s) => s === 200,
    names: true,
  },
  { route: /^(GET|HEAD) \/api\/docs$/, why: 'the docs page rendering that document', expect: (s) => s === 200 },
  { route: /^(GET|HEAD) \/api\/docs\/:file$/, why: 'Swagger UI’s files for that page (a fixed list)', expect: (s) => s === 200 || s === 404 },
];

/** The routes of the app, from Fastify's own table. */
const routesOf = (app: FastifyInstance): string[] => printedRoutes(app.printRoutes({ commonPrefix: false }));

describe('access control and secrets', () => {
  let emu: Emu;
  let app: FastifyInstance;
  let store: SqliteStore;
  let dir: string;

  beforeAll(async () => {
    emu = await Emu.start({ populationSize: 100 });
    dir = mkdtempSync(join(tmpdir(), 'tailor-access-'));
    store = SqliteStore.open(join(dir, 'tailor.db'));
    const s = testServices(store, { secretKey: SECRET_KEY, emu });
    app = await buildServer(s, { adminToken: TOKEN, firehoseToken: FIREHOSE_TOKEN });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every route from the app itself', () => {
    const routes = routesOf(app);
    // The parser sees the known routes, so it sees new ones too.
    for (const r of [
      'GET /healthz',
      'POST /api/v1/configurations',
      'DELETE /api/v1/configurations/:id',
      'POST /api/v1/audiences/:audienceId/members',
      'PUT /api/v1/audiences/:audienceId/connections/:configurationId',
      'POST /firehose',
      'GET /outputs',
      'GET /oauth/x/start',
    ]) {
      expect(routes).toContain(r);
    }
    expect(routes.length).toBeGreaterThan(25);
  });

  it('no route works without credentials, except the public ones, each for a reason', async () => {
    const routes = routesOf(app);
    const checked: string[] = [];
    for (const r of routes) {
      const [method, pattern] = r.split(' ') as [string, string];
      const url = pattern.replace(/:(\w+)/g, 'x1');
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-token-0123456789' },
        { authorization: TOKEN },
        { cookie: 'tailor_session=forged.1.abc' },
      ];
      for (const headers of attempts) {
        const withBody = method === 'POST' || method === 'PUT';
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers: { ...headers, ...(withBody ? { 'content-type': 'application/json' } : {}) },
          payload: withBody ? '{}' : undefined,
        });
        const where = `${r} with ${JSON.stringify(headers)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
        const pub = PUBLIC.find((p) => p.route.test(r));
        if (pub) {
          expect(pub.expect(res.statusCode, res), where).toBe(true);
        } else if (pattern.startsWith('/api/')) {
          expect(res.statusCode, where).toBe(401);
          if (method !== 'HEAD') expect(res.json(), where).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
        } else {
          // A UI page sends the browser to sign-in; anything else is a 401.
          const toSignIn = res.statusCode === 303 && String(res.headers.location).startsWith('/sign-in');
          expect(toSignIn || res.statusCode === 401, where).toBe(true);
        }
        // Nothing of the admin data in a refused answer.
        if (!pub?.names) expect(res.body, where).not.toContain('access_token');
        expect(res.body, where).not.toContain(TOKEN);
      }
      checked.push(r);
    }
    expect(checked.length).toBe(routes.length);
  });

  it('the Firehose needs its token for everything but registration', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/firehose', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
    const membership = { type: 'audience_membership_change_request', account: { account_settings: { accountId: 'a1' } }, user_profiles: [] };
    expect((await post(membership)).statusCode).toBe(401);
    expect((await post(membership, { authorization: `Token ${FIREHOSE_TOKEN}x` })).statusCode).toBe(401);
    expect((await post(membership, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(401);
    expect((await post(membership, { authorization: `Token ${FIREHOSE_TOKEN}` })).statusCode).toBe(200);
    expect((await post({ type: 'module_registration_request' })).statusCode).toBe(200);
  });

  it('every UI page carries the security headers, signed in or not', async () => {
    const cookie = await signInCookie(app, TOKEN);
    const pages = routesOf(app)
      .filter((r) => r.startsWith('GET ') && !/ \/(api|healthz|readyz|metrics|assets)\b/.test(r))
      .map((r) => r.slice(4).replace(/:(\w+)/g, 'x1'));
    expect(pages).toEqual(expect.arrayContaining(['/', '/outputs', '/audiences/x1', '/sign-in']));
    for (const url of pages) {
      for (const headers of [{}, { cookie }]) {
        const res = await app.inject({ method: 'GET', url, headers });
        const where = `GET ${url} ${JSON.stringify(headers)} → ${res.statusCode}`;
        expect(String(res.headers['content-security-policy']), where).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
        expect(res.headers['x-frame-options'], where).toBe('DENY');
        expect(res.headers['x-content-type-options'], where).toBe('nosniff');
        expect(res.headers['referrer-policy'], where).toBe('same-origin');
      }
    }
  });

  it('secretsEqual: right answers at any length, built on timingSafeEqual over digests', () => {
    expect(secretsEqual(TOKEN, TOKEN)).toBe(true);
    expect(secretsEqual(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(secretsEqual('', TOKEN)).toBe(false);
    expect(secretsEqual(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(secretsEqual('x'.repeat(100_000), TOKEN)).toBe(false); // no throw on unequal lengths
    const source = readFileSync('src/http/auth.ts', 'utf8');
    expect(source).toMatch(/timingSafeEqual\(a, b\)/);
    // Every place that checks a presented admin, Firehose or OAuth token goes through it.
    for (const file of ['src/server/guards.ts', 'src/sources/firehose/index.ts', 'src/server/session.ts', 'src/server/oauth-login.ts']) {
      expect(readFileSync(file, 'utf8'), file).toMatch(/secretsEqual\(/);
    }
  });

  it('no `===` or `!==` compares a secret anywhere in src/ (the emulator aside)', () => {
    const SECRETISH = /token|secret|password|passwd|csrf|\bmac\b|signature|verifier|cookie|apikey|api_key/i;
    // Comparisons that involve a secret's name but not its value: null checks, types, lengths,
    // literal names of operations or message types.
    const HARMLESS = /^(null|undefined|''|""|-?\d+|'[\w-]*'|"[\w-]*"|`[^`$]*`|true|false)$/;
    const offenders: string[] = [];
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : f.endsWith('.ts') ? [join(d, f)] : []));
    for (const file of files('src').filter((f) => !f.startsWith(join('src', 'emulator')))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*)/.test(line)) return;
          for (const m of line.matchAll(/([\w.?[\]'"`()]+)\s*(===|!==|==|!=)\s*([\w.?[\]'"`()-]+)/g)) {
            const unwrap = (operand: string): string => operand.replace(/^\(+|\)+$/g, '');
            const left = unwrap(m[1]!);
            const right = unwrap(m[3]!);
            if (!SECRETISH.test(left) && !SECRETISH.test(right)) continue;
            if (HARMLESS.test(left) || HARMLESS.test(right) || /^typeof\b|\.length$|\.(type|step|operation|fate|kind)$/.test(left)) continue;
            offenders.push(`${relative('.', file)}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    expect(offenders).toEqual([]);
  });

  it('X tokens are unreadable in the database without TAILOR_SECRET_KEY', async () => {
    const { user, accountId } = emu.admin();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/configurations',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ account_id: accountId, access_token: user.access_token, access_token_secret: user.access_token_secret }),
    });
    expect(res.statusCode).toBe(201);
    expect(res.body).not.toContain(user.access_token);
    expect(res.body).not.toContain(user.access_token_secret);

    const raw = new Database(join(dir, 'tailor.db'), { readonly: true });
    try {
      const rows = raw.prepare('SELECT * FROM configurations').all() as Record<string, unknown>[];
      expect(rows).toHaveLength(1);
      const text = JSON.stringify(rows);
      for (const secret of [user.access_token, user.access_token_secret, user.access_token.split('-')[1]!]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(Buffer.from(secret).toString('base64'));
      }
      const sealed = String(rows[0]!.tokens);
      expect(sealed).toMatch(/^v1\.[\w+/=]+\.[\w+/=]+\.[\w+/=]+$/); // AES-256-GCM: version, iv, tag, body
      expect(() => new SecretBox('another-secret-key-0123456789abcdef').open(sealed)).toThrow();
      expect(new SecretBox(SECRET_KEY).open(sealed)).toContain(user.access_token);
    } finally {
      raw.close();
    }
    // Nor anywhere in the database files (database, WAL).
    for (const f of readdirSync(dir)) {
      const content = readFileSync(join(dir, f));
      for (const secret of [user.access_token, user.access_token_secret, TOKEN, SECRET_KEY])
        expect(content.includes(Buffer.from(secret)), `${secret} in ${f}`).toBe(false);
    }
  });
});

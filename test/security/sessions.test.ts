/**
 * Web UI sessions and the X login's single-use steps (issue 11), in process: two `buildServer`
 * apps over one database, each with its own store (its own connections), stand for two
 * `tailor serve` processes; on SQLite and on PostgreSQL. Each test failed before sessions and
 * steps were kept in the database (the commit that added this file says how), except two that
 * the signed cookie already enforced and that must stay true: another admin token's session is
 * refused, and a session expires on the server.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { SESSION_TTL_MS } from '../../src/server/session.ts';
import type { Store } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { Emu } from '../e2e/harness.ts';
import { createTestDatabase } from '../store/pg.ts';
import { testServices } from '../support/services.ts';

const TOKEN = 'sessions-test-admin-token-0123456789';
const OTHER_TOKEN = 'sessions-test-rotated-token-9876543210';
const SECRET_KEY = 'sessions-test-secret-key-0123456789abcdef';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** One shared database, opened once per simulated process. */
interface SharedDatabase {
  name: string;
  open(): Promise<Store>;
  drop(): Promise<void>;
}

async function sqliteDatabase(): Promise<SharedDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-sessions-'));
  return { name: 'sqlite', open: async () => SqliteStore.open(join(dir, 'tailor.db')), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresDatabase(): Promise<SharedDatabase> {
  const db = await createTestDatabase();
  return { name: 'postgres', open: () => openPostgresStore(db.url), drop: () => db.drop() };
}

const DATABASES = [sqliteDatabase, postgresDatabase];

const cookieOf = (res: LightMyRequestResponse, name: string): string | undefined => {
  const all = res.headers['set-cookie'];
  const list = all === undefined ? [] : Array.isArray(all) ? all : [String(all)];
  return list.find((c) => c.startsWith(`${name}=`))?.split(';')[0];
};

let emu: Emu;
beforeAll(async () => {
  emu = await Emu.start({ populationSize: 50 });
});
afterAll(async () => emu?.close());

for (const makeDatabase of DATABASES) {
  describe(`UI sessions and single-use X login steps (${makeDatabase.name})`, () => {
    let db: SharedDatabase;
    let clock: number;
    const stores: Store[] = [];
    const apps: FastifyInstance[] = [];

    /** A `tailor serve` process on the shared database, signed with `adminToken`. */
    async function serve(adminToken = TOKEN): Promise<FastifyInstance> {
      const store = await db.open();
      stores.push(store);
      const s = testServices(store, { secretKey: SECRET_KEY, emu, now: () => clock });
      const app = await buildServer(s, { adminToken, firehoseToken: null });
      await app.ready();
      apps.push(app);
      return app;
    }

    beforeEach(async () => {
      clock = Date.now();
      db = await makeDatabase();
    });
    afterEach(async () => {
      for (const app of apps.splice(0)) await app.close();
      for (const store of stores.splice(0)) await store.close();
      await db.drop();
    });

    async function signIn(app: FastifyInstance, adminToken = TOKEN): Promise<{ cookie: string; csrf: string }> {
      const res = await app.inject({ method: 'POST', url: '/sign-in', headers: FORM, payload: `token=${adminToken}` });
      expect(res.statusCode).toBe(303);
      const cookie = cookieOf(res, 'tailor_session')!;
      const page = await app.inject({ method: 'GET', url: '/outputs', headers: { cookie } });
      expect(page.statusCode).toBe(200);
      return { cookie, csrf: /name="csrf-token" content="([^"]+)"/.exec(page.body)![1]! };
    }

    /** What a session may do: a page, an /api/v1 read and write (with the CSRF header), the X login's start. */
    async function access(app: FastifyInstance, s: { cookie: string; csrf: string }): Promise<Record<string, number>> {
      const { cookie, csrf } = s;
      const write = await app.inject({
        method: 'PUT',
        url: '/api/v1/audiences/probe',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'Probe' }),
      });
      return {
        page: (await app.inject({ method: 'GET', url: '/outputs', headers: { cookie } })).statusCode,
        read: (await app.inject({ method: 'GET', url: '/api/v1/audiences', headers: { cookie } })).statusCode,
        write: write.statusCode,
        deleting: (await app.inject({ method: 'GET', url: '/ui/deleting/probe', headers: { cookie } })).statusCode,
      };
    }
    const SIGNED_IN = { page: 200, read: 200, write: expect.any(Number) as number, deleting: 200 };
    const REFUSED = { page: 303, read: 401, write: 401, deleting: 401 };

    it('sign-out ends the session on every process: its cookie and CSRF token are refused for reads and writes', async () => {
      const a = await serve();
      const b = await serve();
      const session = await signIn(a);
      const other = await signIn(b);
      expect(await access(a, session)).toEqual(SIGNED_IN);
      expect(await access(b, session)).toEqual(SIGNED_IN);

      const out = await a.inject({ method: 'POST', url: '/sign-out', headers: { ...FORM, cookie: session.cookie }, payload: `csrf=${session.csrf}` });
      expect(out.statusCode).toBe(303);
      expect(out.headers.location).toBe('/sign-in');

      // The browser drops the cookie, but a copy of it (and of its CSRF token) opens nothing, here or elsewhere.
      expect(await access(a, session)).toEqual(REFUSED);
      expect(await access(b, session)).toEqual(REFUSED);
      expect((await b.inject({ method: 'GET', url: '/oauth/x/start', headers: { cookie: session.cookie } })).statusCode).toBe(401);
      const signIn2 = await b.inject({ method: 'GET', url: '/sign-in', headers: { cookie: session.cookie } });
      expect(signIn2.statusCode).toBe(200); // the sign-in form, not a redirect past it
      // Signing out again with it does nothing more, and the other session goes on.
      expect(
        (await b.inject({ method: 'POST', url: '/sign-out', headers: { ...FORM, cookie: session.cookie }, payload: `csrf=${session.csrf}` })).statusCode,
      ).toBe(303);
      expect(await access(a, other)).toEqual(SIGNED_IN);
    });

    it('a session made under another admin token is refused, on the same database', async () => {
      const before = await serve(TOKEN);
      const session = await signIn(before);
      // The token changed (a restart with a new TAILOR_ADMIN_TOKEN, or a process configured with another).
      const after = await serve(OTHER_TOKEN);
      expect(await access(after, session)).toEqual(REFUSED);
      // The new token's own sessions work, and the old one cannot pass as one of them.
      const fresh = await signIn(after, OTHER_TOKEN);
      expect(await access(after, fresh)).toEqual(SIGNED_IN);
      expect(await access(after, { cookie: session.cookie, csrf: fresh.csrf })).toEqual(REFUSED);
      expect(await access(before, fresh)).toEqual(REFUSED);
    });

    it('a session expires on the server, whatever the browser keeps', async () => {
      const a = await serve();
      const session = await signIn(a);
      clock += SESSION_TTL_MS - 1;
      expect(await access(a, session)).toEqual(SIGNED_IN);
      clock += 1;
      expect(await access(a, session)).toEqual(REFUSED);
    });

    /** Starts the X login and answers on X's page: the request-step flow cookie and the callback path. */
    async function loginAtX(app: FastifyInstance, cookie: string): Promise<{ flow: string; callback: string; token: string }> {
      const start = await app.inject({ method: 'GET', url: '/oauth/x/start', headers: { cookie } });
      expect(start.statusCode).toBe(302);
      const flow = cookieOf(start, 'tailor_x_login')!;
      const token = new URL(String(start.headers.location)).searchParams.get('oauth_token')!;
      const { user } = emu.admin();
      const answer = await fetch(`${emu.url}/oauth/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: FORM,
        body: new URLSearchParams({ oauth_token: token, user_id: user.user_id, action: 'authorize' }).toString(),
      });
      expect(answer.status).toBe(302);
      const callback = new URL(answer.headers.get('location')!);
      return { flow, callback: `${callback.pathname}${callback.search}`, token };
    }

    it('a callback without a verifier does not use the request token up; the real answer still completes', async () => {
      const a = await serve();
      const { cookie } = await signIn(a);
      const { flow, callback, token } = await loginAtX(a, cookie);
      const noVerifier = await a.inject({ method: 'GET', url: `/oauth/x/callback?oauth_token=${encodeURIComponent(token)}`, headers: { cookie: flow } });
      expect(noVerifier.statusCode).toBe(400);
      expect(noVerifier.body).toContain('no verifier');
      const real = await a.inject({ method: 'GET', url: callback, headers: { cookie: flow } });
      expect(real.statusCode, real.body).toBe(200);
      expect(real.body).toContain('Choose the X ad account');
    });

    it('an answer for another login is refused and leaves the login in progress as it was', async () => {
      const a = await serve();
      const { cookie } = await signIn(a);
      const { flow, callback } = await loginAtX(a, cookie);
      // Any site can send the browser here (the flow cookie is SameSite=Lax): a stale or forged answer.
      for (const query of ['oauth_token=forged&oauth_verifier=v', 'denied=forged', '']) {
        const forged = await a.inject({ method: 'GET', url: `/oauth/x/callback?${query}`, headers: { cookie: flow } });
        expect(forged.statusCode, query).toBe(400);
        expect(cookieOf(forged, 'tailor_x_login'), `the flow cookie is left alone (${query})`).toBeUndefined();
      }
      const real = await a.inject({ method: 'GET', url: callback, headers: { cookie: flow } });
      expect(real.statusCode, real.body).toBe(200);
    });

    it('a request token is used once across processes: a replay elsewhere is refused before X is asked', async () => {
      const a = await serve();
      const b = await serve();
      const { cookie } = await signIn(a);
      const { flow, callback } = await loginAtX(a, cookie);
      expect((await a.inject({ method: 'GET', url: callback, headers: { cookie: flow } })).statusCode).toBe(200);
      const replay = await b.inject({ method: 'GET', url: callback, headers: { cookie: flow } });
      expect(replay.statusCode).toBe(400);
      expect(replay.body).toContain('already used');
    });

    it('the callback refuses a login whose session was signed out meanwhile', async () => {
      const a = await serve();
      const session = await signIn(a);
      const { flow, callback } = await loginAtX(a, session.cookie);
      await a.inject({ method: 'POST', url: '/sign-out', headers: { ...FORM, cookie: session.cookie }, payload: `csrf=${session.csrf}` });
      const res = await a.inject({ method: 'GET', url: callback, headers: { cookie: flow } });
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('Sign in to Tailor first');
    });

    it('each access step saves once, on any process: a replayed or doubled save is refused', async () => {
      const a = await serve();
      const b = await serve();
      const session = await signIn(a);
      const accountId = emu.admin().accountId;
      const save = (app: FastifyInstance, access: string, name: string) =>
        app.inject({
          method: 'POST',
          url: '/oauth/x/save',
          headers: { ...FORM, cookie: `${session.cookie}; ${access}` },
          payload: new URLSearchParams({ csrf: session.csrf, account_id: accountId, name }).toString(),
        });
      const chooser = async (): Promise<string> => {
        const { flow, callback } = await loginAtX(a, session.cookie);
        const res = await a.inject({ method: 'GET', url: callback, headers: { cookie: flow } });
        expect(res.statusCode).toBe(200);
        return cookieOf(res, 'tailor_x_login')!;
      };

      const step = await chooser();
      const first = await save(a, step, 'First');
      expect(first.statusCode, first.body).toBe(200);
      expect(first.body).toContain('Configuration saved');
      // The same sealed cookie, replayed within its ten minutes, here and on another process.
      for (const app of [a, b]) {
        const again = await save(app, step, 'Replayed');
        expect(again.statusCode).toBe(400);
        expect(again.body).toContain('already saved');
      }
      const configs = await a.inject({ method: 'GET', url: '/api/v1/configurations', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(configs.json<{ data: { name: string }[] }>().data.map((c) => c.name)).toEqual(['First']);

      // Two posts of one step at once (a double submit, or two processes): one saves.
      const next = await chooser();
      const both = await Promise.all([save(a, next, 'Twice'), save(b, next, 'Twice')]);
      expect(both.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    });
  });
}

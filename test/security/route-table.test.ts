/**
 * No spelling of a path reaches a handler without its check (issue 11). The routes come from the
 * app itself (fastify's route table, with the access class each scope gave them), so a route
 * added later is covered without editing this file. Every protected route is called on a real
 * listening server, over bare sockets, without credentials, under its canonical path and its
 * variants: each character percent-encoded in turn (upper- and lower-case hex), absolute-form
 * targets (http, https, upper-case scheme), doubled slashes, dot segments, a trailing slash,
 * `;` parameters. Each must be refused (401/403/404/421, or a UI page's redirect to sign-in);
 * no handler may run (nothing called on the store, X or the workers) and the database must not
 * change. Before this issue, `/%61pi/v1/configurations` and `GET http://host/api/v1/… HTTP/1.1`
 * answered 200 with the data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeAccess, type RouteAccess } from '../../src/server/access.ts';
import { inPool, rawRequest, type RawResponse } from './raw-http.ts';
import { ADMIN, startServer, type TestServer } from './listening.ts';
import { printedRoutes } from '../support/routes.ts';

/** Routes open without credentials, each for a reason. Anything else is protected. */
const PUBLIC: { route: RegExp; why: string }[] = [
  { route: /^(GET|HEAD) \/(healthz|readyz)$/, why: 'health checks for load balancers: no data' },
  { route: /^(GET|HEAD) \/metrics$/, why: 'Prometheus: counts and ids, never identifiers or tokens (src/server/metrics.ts)' },
  { route: /^(GET|HEAD|POST) \/sign-in$/, why: 'the sign-in page and form (the form checks the admin token)' },
  { route: /^POST \/sign-out$/, why: 'clears the cookie; needs the session and its CSRF token to do anything' },
  { route: /^(GET|HEAD) \/assets\/:file$/, why: 'static files of the UI, no data' },
  { route: /^(GET|HEAD) \/oauth\/x\/callback$/, why: 'X redirects the browser here; refused without the flow cookie issued at start' },
  { route: /^(GET|HEAD) \/api\/v1\/openapi\.json$/, why: 'the API’s OpenAPI document: routes and shapes, no data, no token (src/server/openapi.ts)' },
  { route: /^(GET|HEAD) \/api\/docs(\/:file)?$/, why: 'the docs page: Swagger UI’s files, which read the document above' },
];

/** The routes of /api/ that are not bearer: the API's own description (on PUBLIC above, for its reason). */
const API_DESCRIPTION = /^\/api\/(v1\/openapi\.json|docs|docs\/:file)$/;

const hex = (c: string): string => Buffer.from(c, 'utf8').toString('hex').toUpperCase().replace(/(..)/g, '%$1');

/** Every spelling of `path` a router or a proxy might take for it. */
function variants(path: string, port: number): string[] {
  const out = new Set<string>([path, `${path}?x=1`]);
  for (let i = 0; i < path.length; i++) {
    const upper = hex(path[i]!);
    out.add(path.slice(0, i) + upper + path.slice(i + 1));
    out.add(path.slice(0, i) + upper.toLowerCase() + path.slice(i + 1));
  }
  out.add([...path].map(hex).join('')); // all of it
  out.add([...path].map((c, i) => (i % 2 ? hex(c).toLowerCase() : hex(c))).join('')); // mixed-case escapes
  out.add(path.replace(/[a-z]/, (c) => `%25${hex(c).slice(1)}`)); // double-encoded
  for (const scheme of ['http', 'https', 'HTTP']) {
    out.add(`${scheme}://127.0.0.1:${port}${path}`);
    out.add(`${scheme}://localhost${path}`);
  }
  const slashes = [...path.matchAll(/\//g)].map((m) => m.index);
  for (const i of slashes) out.add(`${path.slice(0, i)}/${path.slice(i)}`); // doubled slash
  const segments = path.split('/').filter(Boolean);
  out.add(`/x/..${path}`);
  out.add(`/%2e%2e${path}`);
  out.add(`/.${path}`);
  if (segments.length > 1) out.add(`/${segments[0]}/./${segments.slice(1).join('/')}`);
  out.add(`${path}/`);
  out.add(`${path}/.`);
  out.add(`${path};x=1`);
  if (segments.length > 0) out.add(`/${segments[0]};x=1/${segments.slice(1).join('/')}`.replace(/\/$/, ''));
  out.add(path.toUpperCase());
  return [...out];
}

/** A refusal: never 2xx, never the handler. */
function refused(r: RawResponse, access: RouteAccess['access']): boolean {
  if ([401, 403, 404, 421].includes(r.status)) return true;
  // A UI page sends the browser to sign-in.
  if (access === 'session' && r.status === 303) return (r.headers.location ?? '').startsWith('/sign-in');
  // Refused before any route: by the router (the envelope), or by Node's parser for a target
  // that is neither `/…` nor a URL (`%2Fapi…`): fastify's plain "Client Error".
  return r.status === 400 && (/The URL is not valid/.test(r.body) || /"message":"Client Error"/.test(r.body));
}

/** A body the route would act on, were it reached. */
function bodyFor(r: RouteAccess): { body?: string; headers?: Record<string, string> } {
  if (r.method === 'GET' || r.method === 'HEAD') return {};
  if (r.access === 'firehose') {
    const msg = {
      type: 'audience_membership_change_request',
      account: { account_settings: { accountId: 'acct0001' } },
      user_profiles: [
        {
          mpid: '1',
          user_identities: [{ type: 'email', encoding: 'raw', value: 'a@example.com' }],
          audiences: [{ audience_id: 9, audience_name: 'N', action: 'add' }],
        },
      ],
    };
    return { body: JSON.stringify(msg), headers: { 'content-type': 'application/json' } };
  }
  if (r.access === 'session') return { body: 'account_id=1&csrf=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  return {
    body: JSON.stringify({ name: 'N', add: [{ user_id: 'u1', email: 'a@example.com' }], account_id: '1', access_token: 't', access_token_secret: 's' }),
    headers: { 'content-type': 'application/json' },
  };
}

const concrete = (url: string): string => url.replace(/:(\w+)/g, 'x1');

describe('every route has its check, whatever the spelling of its path', () => {
  let t: TestServer;
  let table: readonly RouteAccess[];

  beforeAll(async () => {
    t = await startServer();
    table = routeAccess(t.app);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the access table covers exactly the routes fastify has', () => {
    const printed = printedRoutes(t.app.printRoutes({ commonPrefix: false })).sort();
    expect(table.map((r) => `${r.method} ${r.url}`).sort()).toEqual(printed);
    for (const r of [
      'GET /healthz',
      'POST /api/v1/configurations',
      'POST /api/v1/audiences/:audienceId/members',
      'POST /firehose',
      'GET /api/v1/firehose',
      'GET /outputs',
      'GET /oauth/x/start',
      'POST /oauth/x/save',
      'GET /ui/deleting/:id',
    ]) {
      expect(printed).toContain(r);
    }
    expect(printed.length).toBeGreaterThan(25);
  });

  it('the open routes are exactly the public list, each for a reason', () => {
    const open = table.filter((r) => r.access === 'health' || r.access === 'public').map((r) => `${r.method} ${r.url}`);
    for (const r of open)
      expect(
        PUBLIC.some((p) => p.route.test(r)),
        `${r} is open but not on the public list`,
      ).toBe(true);
    for (const p of PUBLIC)
      expect(
        open.some((r) => p.route.test(r)),
        `${p.route} (${p.why}) matches no open route`,
      ).toBe(true);
    // Classes follow the URL space: an /api/ route is never anything but bearer, its description aside.
    for (const r of table) if (r.url.startsWith('/api/')) expect(r.access, `${r.method} ${r.url}`).toBe(API_DESCRIPTION.test(r.url) ? 'public' : 'bearer');
    // And the description is only that: no other /api/v1 route is public.
    expect(
      table
        .filter((r) => r.url.startsWith('/api/v1/') && r.access === 'public')
        .map((r) => `${r.method} ${r.url}`)
        .sort(),
    ).toEqual(['GET /api/v1/openapi.json', 'HEAD /api/v1/openapi.json']);
    expect(table.find((r) => r.method === 'POST' && r.url === '/firehose')?.access).toBe('firehose');
  });

  it('no protected route answers a caller without credentials under any spelling of its path', async () => {
    const protectedRoutes = table.filter((r) => r.access !== 'health' && r.access !== 'public');
    expect(protectedRoutes.length).toBeGreaterThan(15);
    const cases = protectedRoutes.flatMap((r) => variants(concrete(r.url), t.port).map((target) => ({ r, target })));
    const before = t.changes();
    const failures: string[] = [];
    await inPool(cases, 8, async ({ r, target }) => {
      const callsBefore = t.calls.length;
      const res = await rawRequest(t.port, { method: r.method, target, ...bodyFor(r) });
      if (!refused(res, r.access)) failures.push(`${r.method} ${target} (${r.access}) → ${res.status} ${res.body.slice(0, 120)}`);
      if (t.calls.length !== callsBefore) failures.push(`${r.method} ${target} reached a handler: ${t.calls.slice(callsBefore).join(', ')}`);
    });
    expect(failures).toEqual([]);
    expect(t.calls).toEqual([]);
    expect(t.changes(), 'the database changed').toBe(before);
    console.log(`route table: ${cases.length} spellings of ${protectedRoutes.length} protected routes, all refused`);
  });

  it('the same spellings do reach the route with credentials (the variants are real)', async () => {
    // GET routes of /api/v1, read-only: an encoded letter and an absolute-form target reach the
    // handler once the token is there, so the refusals above came from the check, not the router.
    const reads = table.filter((r) => r.access === 'bearer' && r.method === 'GET' && !r.url.includes(':'));
    expect(reads.length).toBeGreaterThan(1);
    for (const r of reads) {
      for (const target of [r.url.replace('a', '%61'), `http://127.0.0.1:${t.port}${r.url}`, `https://localhost${r.url}`]) {
        const res = await rawRequest(t.port, { method: 'GET', target, headers: { authorization: `Bearer ${ADMIN}` } });
        expect(res.status, `${target} → ${res.body.slice(0, 200)}`).toBe(200);
      }
    }
  });
});

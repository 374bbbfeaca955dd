/**
 * The OpenAPI document (`GET /api/v1/openapi.json`, src/server/openapi.ts) against the app it
 * describes (issue 19): it is valid OpenAPI 3.1; every /api/v1 route of fastify's own route table
 * is in it with its parameters, body and answers; and real answers, taken in process through a
 * scenario that fills every view (configurations, connections, members sent to the X emulator by
 * a real sync worker, a Firehose suspension, deletions, and the error answers), match the schema
 * the document declares for their status, with no field the document leaves out.
 */
import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenAPIV3_1 } from 'openapi-types';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/core/secret-box.ts';
import { statusOf } from '../../src/http/errors.ts';
import { MemberKeys } from '../../src/membership/member-key.ts';
import { routeAccess } from '../../src/server/access.ts';
import { buildServer } from '../../src/server/app.ts';
import type { Services } from '../../src/services/deps.ts';
import { alertRule } from '../../src/alerts/rule.ts';
import { runDoctor } from '../../src/doctor/checks.ts';
import { probeDatabase } from '../../src/store/probe.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { RateGate } from '../../src/sync/rate.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import { XClient } from '../../src/x/client.ts';
import { Emu, waitFor } from '../e2e/harness.ts';

const TOKEN = 'openapi-test-admin-token-0123';
const KEY = 'openapi-test-secret-key-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const METHODS = ['get', 'put', 'post', 'delete'] as const;
type Method = (typeof METHODS)[number];
type Verb = 'GET' | 'PUT' | 'POST' | 'DELETE';

const openApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');

/**
 * The document promises the fields it lists; a client may meet new ones later, so it does not say
 * `additionalProperties: false`. The test does: an answer carrying a field the document leaves out
 * fails here.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema))
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, closed(s)])) : closed(v);
  if ('properties' in out && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

describe('the OpenAPI document', () => {
  let emu: Emu;
  let app: FastifyInstance;
  let store: SqliteStore;
  let worker: SyncWorker;
  let dir: string;
  let served: OpenAPIV3_1.Document;
  let doc: OpenAPIV3_1.Document;

  beforeAll(async () => {
    emu = await Emu.start();
    dir = mkdtempSync(join(tmpdir(), 'tailor-openapi-'));
    store = SqliteStore.open(join(dir, 'tailor.db'));
    const box = new SecretBox(KEY);
    const log = pino({ level: 'silent' });
    const x = new XClient({ apiUrl: emu.url, oauthUrl: emu.url, app: { consumerKey: emu.creds.consumer_key, consumerSecret: emu.creds.consumer_secret } });
    worker = new SyncWorker(
      { store, x, rate: new RateGate(store, { usersPerMinute: 10_000 }), box, log, now: Date.now, installationId: await store.installationId() },
      { concurrency: 1, flushIntervalMs: 50, refreshIntervalMs: 200, xTimeoutMs: 5_000 },
    );
    const env = {
      TAILOR_DATABASE_URL: `sqlite:${join(dir, 'tailor.db')}`,
      TAILOR_X_API_URL: emu.url,
      TAILOR_X_OAUTH_URL: emu.url,
      TAILOR_X_CONSUMER_KEY: emu.creds.consumer_key,
      TAILOR_X_CONSUMER_SECRET: emu.creds.consumer_secret,
      TAILOR_SECRET_KEY: KEY,
      TAILOR_ADMIN_TOKEN: TOKEN,
    };
    const doctor = () => runDoctor({ env, probe: probeDatabase, configurations: () => store.listConfigurations() });
    const s: Services = { store, box, memberKeys: new MemberKeys(KEY), phoneRegion: 'US', x, log, now: Date.now, notify: () => worker.notify(), doctor };
    app = await buildServer(s, { adminToken: TOKEN, firehoseToken: null });
    worker.start();
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    served = res.json();
    doc = await dereference(structuredClone(served));
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
    await store?.close();
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const operation = (method: string, url: string): OpenAPIV3_1.OperationObject | undefined => doc.paths?.[openApiPath(url)]?.[method.toLowerCase() as Method];

  it('is valid OpenAPI 3.1, served without credentials', async () => {
    const result = await validate(structuredClone(served));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(served.openapi).toBe('3.1.0');
    expect(served.components?.securitySchemes?.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    // Documentation only: nothing of the UI, health or mParticle's own endpoint.
    expect(Object.keys(served.paths ?? {}).every((p) => p.startsWith('/api/v1/'))).toBe(true);
  });

  it('holds every /api/v1 route of the route table, with its parameters, body and answers', () => {
    const table = routeAccess(app).filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD' && r.url !== '/api/v1/openapi.json');
    expect(table.length).toBeGreaterThanOrEqual(12);
    for (const r of table) {
      const what = `${r.method} ${r.url}`;
      const op = operation(r.method, r.url);
      expect(op, `${what} is not in the document`).toBeDefined();
      const params = (op!.parameters ?? []) as OpenAPIV3_1.ParameterObject[];
      for (const [, name] of r.url.matchAll(/:(\w+)/g)) {
        expect(
          params.find((p) => p.in === 'path' && p.name === name && p.required === true && p.schema),
          `${what}: path parameter ${name}`,
        ).toBeDefined();
      }
      if (r.method === 'POST' || r.method === 'PUT')
        expect(
          op!.requestBody && 'content' in op!.requestBody ? op!.requestBody.content['application/json']?.schema : undefined,
          `${what}: request body`,
        ).toBeDefined();
      const responses = Object.entries(op!.responses ?? {}) as [string, OpenAPIV3_1.ResponseObject][];
      const ok = responses.filter(([status]) => status.startsWith('2'));
      expect(ok.length, `${what}: a 2xx answer`).toBeGreaterThan(0);
      for (const [status, response] of ok) {
        if (status === '204') expect(response.content, `${what}: 204 has no body`).toBeUndefined();
        else expect(response.content?.['application/json']?.schema, `${what}: ${status}'s schema`).toBeDefined();
      }
      for (const status of ['400', '401', '500']) {
        const response = op!.responses?.[status] as OpenAPIV3_1.ResponseObject | undefined;
        const schema = response?.content?.['application/json']?.schema;
        expect(schema && 'properties' in schema ? schema.properties?.error : undefined, `${what}: ${status} is the error envelope`).toBeDefined();
      }
    }
    // A body the route lets out (the connection's toggles) is not required; the others are.
    const required = (method: string, url: string) => (operation(method, url)?.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.required;
    expect(required('PUT', '/api/v1/audiences/:audienceId/connections/:configurationId')).toBe(false);
    expect(required('PUT', '/api/v1/audiences/:audienceId')).toBe(true);
    expect(required('POST', '/api/v1/audiences/:audienceId/members')).toBe(true);
    // Nor anything more: each documented operation is a route.
    const documented = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) => METHODS.filter((m) => ops?.[m]).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(table.map((r) => `${r.method} ${openApiPath(r.url)}`).sort());
  });

  it('describes what the routes really answer, errors included', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const compiled = new Map<string, ValidateFunction>();
    const checked = new Set<string>();
    const failures: string[] = [];

    /** One request; its answer must be documented for its status and match that schema. */
    const send = (method: Verb, url: string, o: { payload?: unknown; headers?: Record<string, string> } = {}) =>
      app.inject({ method, url, headers: { ...auth, ...o.headers }, ...(o.payload === undefined ? {} : { payload: o.payload as string }) });
    const call = async (method: Verb, route: string, url: string, o: { payload?: unknown; headers?: Record<string, string> } = {}) =>
      check(method, route, await send(method, url, o));
    const check = (method: Verb, route: string, res: Awaited<ReturnType<typeof send>>) => {
      const status = String(res.statusCode);
      const what = `${method} ${route} → ${status}`;
      const response = operation(method, route)?.responses?.[status] as OpenAPIV3_1.ResponseObject | undefined;
      checked.add(`${method} ${route} ${status}`);
      if (!response) {
        failures.push(`${what} is not documented: ${res.body.slice(0, 200)}`);
        return res;
      }
      const schema = response.content?.['application/json']?.schema;
      if (!schema) {
        if (res.body !== '') failures.push(`${what}: documented without a body, answered ${res.body.slice(0, 100)}`);
        return res;
      }
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const key = `${method} ${route} ${status}`;
      let check = compiled.get(key);
      if (!check) compiled.set(key, (check = ajv.compile(closed(schema) as object)));
      const body: unknown = res.json();
      if (!check(body)) failures.push(`${what}: ${ajv.errorsText(check.errors)} in ${res.body.slice(0, 300)}`);
      // The error envelope's code is the one of its status (src/http/errors.ts).
      if (res.statusCode >= 400) expect(statusOf((body as { error: { code: Parameters<typeof statusOf>[0] } }).error.code), what).toBe(res.statusCode);
      return res;
    };

    // The checks can fail: a body with a field the document does not list is refused.
    const probe = ajv.compile(
      closed((operation('GET', '/api/v1/firehose')!.responses!['200'] as OpenAPIV3_1.ResponseObject).content!['application/json']!.schema!) as object,
    );
    const firehose = (await app.inject({ method: 'GET', url: '/api/v1/firehose', headers: auth })).json();
    expect(probe(firehose)).toBe(true);
    expect(probe({ ...firehose, undocumented: 1 })).toBe(false);
    expect(probe({ ...firehose, encoding: 'base64' })).toBe(false);

    const { user, accountId } = emu.admin();
    const tokens = { account_id: accountId, access_token: user.access_token, access_token_secret: user.access_token_secret };
    await call('GET', '/api/v1/configurations', '/api/v1/configurations');
    const config = (await call('POST', '/api/v1/configurations', '/api/v1/configurations', { payload: tokens })).json();
    expect(config.id).toEqual(expect.any(String));
    await call('POST', '/api/v1/configurations', '/api/v1/configurations', { payload: { ...tokens, name: 'Renamed' } });
    await call('POST', '/api/v1/configurations', '/api/v1/configurations', { payload: { ...tokens, access_token: 'bogus' } });
    await call('POST', '/api/v1/configurations', '/api/v1/configurations', { payload: { ...tokens, extra: 1 } });
    await call('GET', '/api/v1/configurations', '/api/v1/configurations');

    await call('PUT', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1', { payload: { name: 'Shoppers' } });
    await call('PUT', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1', { payload: { name: 'Buyers' } });
    await call('PUT', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1', { payload: { name: 'x'.repeat(70_000) } });
    await call('PUT', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1', {
      payload: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await call('PUT', '/api/v1/audiences/:audienceId/connections/:configurationId', `/api/v1/audiences/a1/connections/${config.id}`);
    await call('PUT', '/api/v1/audiences/:audienceId/connections/:configurationId', `/api/v1/audiences/a1/connections/${config.id}`, {
      payload: { forward_device_ids: false },
    });
    await call('PUT', '/api/v1/audiences/:audienceId/connections/:configurationId', '/api/v1/audiences/a1/connections/nope');
    const members = await call('POST', '/api/v1/audiences/:audienceId/members', '/api/v1/audiences/a1/members', {
      payload: {
        add: [
          { user_id: 'u1', email: 'one@example.com', twitter_handle: '@one' },
          { user_id: 'u2', email: 'not an email', phone_number: '12' },
        ],
        remove: [{ email: 'gone@example.com' }],
      },
    });
    expect(members.json().rejected.length).toBeGreaterThan(0);
    await call('POST', '/api/v1/audiences/:audienceId/members', '/api/v1/audiences/nope/members', { payload: { add: [] } });

    // The suppression list and erasures (docs/privacy.md).
    const suppressions = await call('POST', '/api/v1/suppressions', '/api/v1/suppressions', {
      payload: { add: [{ email: 'opt@example.com' }, { email: 'not an email' }], remove: [{ twitter_handle: '@back' }] },
    });
    expect(suppressions.json()).toMatchObject({ added: 1, lifted: 0 });
    expect(
      (await call('POST', '/api/v1/suppressions/check', '/api/v1/suppressions/check', { payload: { email: 'OPT@example.com', twitter_handle: 'one' } })).json(),
    ).toEqual({
      suppressed: true,
      fields: { email: true, twitter_handle: false },
    });
    await call('POST', '/api/v1/suppressions/check', '/api/v1/suppressions/check', { payload: {} });
    await call('POST', '/api/v1/suppressions', '/api/v1/suppressions', { payload: { add: [{ phone: '1' }] } });
    const erasure = await call('POST', '/api/v1/erasures', '/api/v1/erasures', { payload: { user_id: 'u9', email: 'nine@example.com' } });
    await call('GET', '/api/v1/erasures/:erasureId', `/api/v1/erasures/${erasure.json().id}`);
    await call('GET', '/api/v1/erasures/:erasureId', '/api/v1/erasures/nope');
    await call('POST', '/api/v1/erasures', '/api/v1/erasures', { payload: {} });
    expect((await call('GET', '/api/v1/privacy', '/api/v1/privacy')).json().erasures.length).toBe(1);

    // The sync worker writes to the emulator: downstream audiences with X ids, counts and sizes.
    await waitFor('X audiences created, members sent and refreshed', async () => {
      const a = (await app.inject({ method: 'GET', url: '/api/v1/audiences/a1', headers: auth })).json();
      const ds = a.connections[0]?.downstream_audiences ?? [];
      // Email and handle sent and refreshed; device ids turned off above (detached).
      const active = ds.filter(
        (d: { state: string; pending: number; sent_adds: number; last_refreshed_at: string | null }) =>
          d.state === 'active' && d.pending === 0 && d.sent_adds > 0 && d.last_refreshed_at !== null,
      );
      return active.length === 2 && ds.some((d: { state: string }) => d.state === 'detached');
    });
    await call('GET', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1');
    await call('GET', '/api/v1/audiences', '/api/v1/audiences');
    const history = await call('GET', '/api/v1/audiences/:audienceId/history', '/api/v1/audiences/a1/history');
    expect(history.json().downstream_audiences.length).toBeGreaterThan(0);
    const since = history.json().downstream_audiences[0].samples.at(-1)?.at ?? new Date(0).toISOString();
    await call('GET', '/api/v1/audiences/:audienceId/history', `/api/v1/audiences/a1/history?since=${encodeURIComponent(since)}`);
    const deliveries = await call('GET', '/api/v1/audiences/:audienceId/deliveries', '/api/v1/audiences/a1/deliveries');
    expect(deliveries.json().data.length).toBeGreaterThan(0);
    await call('GET', '/api/v1/audiences/:audienceId/deliveries', '/api/v1/audiences/a1/deliveries?limit=1&identity_type=email');
    await call('GET', '/api/v1/audiences/:audienceId/deliveries', '/api/v1/audiences/a1/deliveries?cursor=x');
    await call('GET', '/api/v1/audiences/:audienceId/deliveries', '/api/v1/audiences/nope/deliveries');
    const page = await call('GET', '/api/v1/audiences', '/api/v1/audiences?q=BUY&sort=-name&limit=1&state=ok');
    expect(page.json().data.map((a: { id: string }) => a.id)).toEqual(['a1']);
    await call('GET', '/api/v1/audiences', '/api/v1/audiences?sort=bogus');
    await call('GET', '/api/v1/audiences', '/api/v1/audiences?cursor=bogus');
    // The audience tools: a dry run, a lookup, a resync and the deletions waiting on campaigns.
    const preview = await call('POST', '/api/v1/audiences/:audienceId/members', '/api/v1/audiences/a1/members?dry_run=true', {
      payload: { add: [{ user_id: 'u3', email: 'three@example.com' }], remove: [{ user_id: 'u1' }] },
    });
    expect(preview.json().changes.email).toMatchObject({ add: 1, remove: 1 });
    const found = await call('POST', '/api/v1/lookup', '/api/v1/lookup', { payload: { email: 'one@example.com' } });
    expect(found.json().results[0]).toMatchObject({ audience_id: 'a1', state: 'on_x' });
    await call('POST', '/api/v1/lookup', '/api/v1/lookup', { payload: { email: 'not an email' } });
    await call('POST', '/api/v1/audiences/:audienceId/connections/:configurationId/resync', `/api/v1/audiences/a1/connections/${config.id}/resync`);
    await call('POST', '/api/v1/audiences/:audienceId/connections/:configurationId/resync', '/api/v1/audiences/a1/connections/nope/resync');
    await call('GET', '/api/v1/deletions', '/api/v1/deletions');
    await call('GET', '/api/v1/audiences/:audienceId', '/api/v1/audiences/nope');
    await call('GET', '/api/v1/audiences/:audienceId/history', '/api/v1/audiences/nope/history');

    // A Firehose message for an account Tailor has no configuration for: a suspension to show.
    const suspended = await app.inject({
      method: 'POST',
      url: '/firehose',
      payload: { type: 'audience_membership_change_request', account: { account_settings: { accountId: 'unknown0001' } }, user_profiles: [] },
    });
    expect(suspended.statusCode).toBe(200);
    // Setup › Health: the checks run for real (emulator, this database), and an event raised by the watch.
    const health = await call('GET', '/api/v1/health/checks', '/api/v1/health/checks');
    expect(health.json().checks.length).toBeGreaterThan(5);
    await store.setConfigurationState(config.id, 'needs_reauth', 'test', Date.now(), 'worker');
    await store.watchAlerts(Date.now(), { deliver: false, erasuresOverdueBefore: 0 }, (seen, previous) =>
      alertRule(seen, previous, { now: Date.now(), alertAfterMs: 60_000 }),
    );
    await store.setConfigurationState(config.id, 'active', null, Date.now(), 'worker');
    const events = await call('GET', '/api/v1/events', '/api/v1/events?limit=5');
    expect(events.json().data.map((e: { type: string }) => e.type)).toContain('configuration.needs_reauth');
    await call('GET', '/api/v1/events', '/api/v1/events?limit=0');
    const status = await call('GET', '/api/v1/firehose', '/api/v1/firehose');
    expect(status.json().suspensions.length).toBe(1);

    await call('DELETE', '/api/v1/configurations/:id', `/api/v1/configurations/${config.id}`);
    await call('DELETE', '/api/v1/audiences/:audienceId/connections/:configurationId', `/api/v1/audiences/a1/connections/${config.id}`);
    await call('DELETE', '/api/v1/audiences/:audienceId/connections/:configurationId', `/api/v1/audiences/a1/connections/${config.id}`);
    await call('GET', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1');
    const deleted = await call('DELETE', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1');
    expect(deleted.json().deleting_x_audiences.length).toBeGreaterThan(0);
    await call('DELETE', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a1');
    // Once X has deleted them, the configuration goes.
    const gone = await waitFor('the X audiences deleted', async () => {
      const res = await send('DELETE', `/api/v1/configurations/${config.id}`);
      return res.statusCode === 204 ? res : check('DELETE', '/api/v1/configurations/:id', res).statusCode === 409 && null;
    });
    check('DELETE', '/api/v1/configurations/:id', gone);
    await call('DELETE', '/api/v1/configurations/:id', `/api/v1/configurations/${config.id}`);

    // The audit log of all of the above, a page at a time, and a cursor it never gave out.
    const audit = (await call('GET', '/api/v1/audit', '/api/v1/audit?limit=3')).json();
    expect(audit.data.length).toBe(3);
    await call('GET', '/api/v1/audit', `/api/v1/audit?limit=200&cursor=${audit.next_cursor}`);
    await call('GET', '/api/v1/audit', '/api/v1/audit?cursor=bm9wZQ');

    // Refusals before any handler: the access check and the router.
    await call('GET', '/api/v1/audiences', '/api/v1/audiences', { headers: { authorization: 'Bearer wrong' } });
    await call('PUT', '/api/v1/audiences/:audienceId', '/api/v1/audiences/a%', { payload: { name: 'x' } });
    await call('GET', '/api/v1/audiences', '/api/v1/audiences', { headers: { host: 'evil.example' } });

    expect(failures).toEqual([]);
    // Every operation was seen answering each of its success statuses, and the error statuses above.
    for (const [path, ops] of Object.entries(doc.paths ?? {})) {
      for (const m of METHODS) {
        const op = ops?.[m];
        if (!op) continue;
        const route = path.replace(/\{(\w+)\}/g, ':$1');
        for (const s of Object.keys(op.responses ?? {}).filter((s) => s.startsWith('2')))
          expect(checked, `${m.toUpperCase()} ${route} ${s} was never answered`).toContain(`${m.toUpperCase()} ${route} ${s}`);
      }
    }
    for (const s of ['400', '401', '404', '409', '413', '415', '421', '422'])
      expect(
        [...checked].some((c) => c.endsWith(` ${s}`)),
        `no ${s} answer checked`,
      ).toBe(true);
  }, 60_000);

  it('has a docs page built from files Tailor serves, under the UI’s Content-Security-Policy', async () => {
    const page = await app.inject({ method: 'GET', url: '/api/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    // No inline script (the CSP would block it) and every file from Tailor itself.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const files = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      expect(file, 'a file from elsewhere').toMatch(/^\/api\/docs\//);
      const res = await app.inject({ method: 'GET', url: file });
      expect(res.statusCode, file).toBe(200);
      expect(res.headers['content-security-policy'], file).toBe(page.headers['content-security-policy']);
    }
    const start = await app.inject({ method: 'GET', url: '/api/docs/start.js' });
    expect(start.body).toContain('url: "/api/v1/openapi.json"');
    expect(start.body).toContain('validatorUrl: null');
    // Only the listed files: nothing else of the package's folder, no path out of it.
    for (const url of ['/api/docs/index.html', '/api/docs/oauth2-redirect.html', '/api/docs/..%2Fpackage.json', '/api/docs/%2e%2e%2findex.js'])
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
  });
});

/**
 * No mutating route without its audit entry (issue 14), on SQLite and PostgreSQL. The routes come
 * from fastify's own route table: every POST, PUT, PATCH and DELETE the app has is either called
 * below, where each call must add an audit entry with its actor, or exempt, with the reason. A
 * route added later without either fails the first test; a call that changes something and
 * records nothing fails the second. The CLI's commands are walked the same way, from commander.
 *
 * X is the emulator, in process: a configuration is added with real (emulated) tokens, and the
 * X login saves one from a web UI session. Where a route needs an X audience that exists on X
 * (a resync, a forced deletion), the test plays the worker's part through the store.
 */
import { Command } from 'commander';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register as registerConfigurations } from '../../src/cli/commands/configurations.ts';
import { register as registerDemo } from '../../src/cli/commands/demo.ts';
import { register as registerDoctor } from '../../src/cli/commands/doctor.ts';
import { register as registerEmulator } from '../../src/cli/commands/emulator.ts';
import { register as registerImport } from '../../src/cli/commands/import.ts';
import { register as registerServe } from '../../src/cli/commands/serve.ts';
import { downstreamName } from '../../src/core/names.ts';
import type { AuditEntry, ClaimOptions } from '../../src/store/port.ts';
import { Emu } from '../e2e/harness.ts';
import { fixture, forAccount } from '../firehose/helpers.ts';
import { STORES } from '../store/helpers.ts';
import { startInProcess, type InProcess } from '../support/in-process.ts';
import { printedRoutes } from '../support/routes.ts';

const MUTATING = /^(POST|PUT|PATCH|DELETE) /;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Mutating routes that change no configuration, audience, connection, suppression or erasure. */
const EXEMPT: Record<string, string> = {
  'POST /api/v1/audiences/:audienceId/members': 'member changes are the data, not a change of the audience: counted on the status page (docs/privacy.md)',
  'POST /api/v1/lookup': 'a read: the identities go in the body so that they never appear in a URL',
  'POST /api/v1/suppressions/check': 'a read, in a body for the same reason',
  'POST /sign-in': 'starts a web UI session; what the session then changes is recorded as ui_session',
  'POST /sign-out': 'ends a session',
};

/** The CLI's commands: how each one's changes are audited, or why it changes nothing audited. */
const CLI: Record<string, string> = {
  'configurations add': 'addConfiguration, actor cli (test/e2e/privacy.e2e.test.ts reads its entry)',
  demo: 'addConfiguration (actor cli), then the REST API with the admin token',
  import: 'member changes only: the data, like POST …/members',
  serve: 'runs the server and workers: their changes are audited as they make them',
  worker: 'runs workers: a configuration it pauses is recorded as configuration.paused, actor worker',
  migrate: 'migrates the schema: no object changes',
  emulator: 'runs the X emulator: Tailor’s database is not opened',
  doctor: 'reads and reports',
};

const claimOpts = (now: number): ClaimOptions => ({
  owner: 'test:1:w',
  now,
  leaseMs: 30_000,
  flushIntervalMs: 1,
  fullBatch: 1000,
  maxChanges: 1000,
  refreshIntervalMs: 1e12,
});

let emu: Emu;
beforeAll(async () => {
  emu = await Emu.start({ populationSize: 20 });
});
afterAll(async () => emu?.close());

describe('the CLI', () => {
  it('every command is classified: audited through the store, or changing nothing audited', () => {
    const program = new Command('tailor');
    for (const register of [registerDemo, registerServe, registerEmulator, registerConfigurations, registerImport, registerDoctor]) register(program);
    const leaves = (c: Command, prefix: string): string[] =>
      c.commands.length === 0 ? [prefix] : c.commands.flatMap((s) => leaves(s, prefix ? `${prefix} ${s.name()}` : s.name()));
    expect(leaves(program, '').sort()).toEqual(Object.keys(CLI).sort());
  });
});

for (const factory of STORES) {
  describe(`every mutating route writes an audit entry (${factory.name})`, () => {
    let t: InProcess;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const opened = await factory.open();
      cleanup = opened.cleanup;
      t = await startInProcess({ store: opened.store, emu, logLevel: 'silent' });
    });
    afterAll(async () => {
      await t?.close();
      await cleanup?.();
    });

    const newest = async (): Promise<number> => (await t.store.listAudit({ limit: 1 }))[0]?.id ?? 0;
    const since = async (id: number): Promise<AuditEntry[]> => (await t.store.listAudit({ limit: 200 })).filter((e) => e.id > id).reverse();

    /** What each call recorded, by route: every call must record at least one entry. */
    const recorded = new Map<string, [string, string, string | null][][]>();
    async function call(route: string, send: () => Promise<LightMyRequestResponse | { status: number; raw: string }>): Promise<AuditEntry[]> {
      const before = await newest();
      const res = await send();
      const status = 'statusCode' in res ? res.statusCode : res.status;
      const body = 'statusCode' in res ? res.body : res.raw;
      expect(status, `${route}: ${body}`).toBeLessThan(300);
      const entries = await since(before);
      expect(entries.length, `${route} changed something and wrote no audit entry`).toBeGreaterThan(0);
      const list = recorded.get(route) ?? [];
      list.push(entries.map((e) => [e.actor, e.action, e.objectId]));
      recorded.set(route, list);
      return entries;
    }

    async function uiSession(): Promise<{ cookie: string; csrf: string }> {
      const res = await t.app.inject({ method: 'POST', url: '/sign-in', headers: FORM, payload: `token=${t.adminToken}` });
      const cookie = String(res.headers['set-cookie']).split(';')[0]!;
      const page = await t.app.inject({ method: 'GET', url: '/outputs', headers: { cookie } });
      return { cookie, csrf: /name="csrf-token" content="([^"]+)"/.exec(page.body)![1]! };
    }

    /**
     * Plays the worker: creates the audience's X audience of `type` on the store, as settled from X,
     * for a first member (an X audience is created with its first: store/creation.ts). The member
     * is written to the store, not through a route, so it adds no audit entry of its own.
     */
    async function createOnX(audience: string, name: string): Promise<void> {
      await t.store.applyMemberChanges(audience, [{ memberKey: 'first', action: 'add', identities: [{ type: 'email', hash: 'f'.repeat(64) }] }], Date.now());
      const c = (await t.store.claim(claimOpts(Date.now())))!;
      expect(c.task).toBe('create');
      const x = { id: `x-${audience}`, name: downstreamName(name, c.downstream.identityType, 1), nameSuffix: 1, audienceSize: null, targetable: false };
      expect(await t.store.settleCreated(c.downstream.id, c.leaseToken, { ...x, reasonsNotTargetable: [] }, Date.now())).toBe(true);
    }

    it('walks the route table: each mutating route is called below or exempt, for a reason', async () => {
      const routes = printedRoutes(t.app.printRoutes({ commonPrefix: false })).filter((r) => MUTATING.test(r));
      expect(routes.length).toBeGreaterThan(10);
      const { user, accountId } = emu.admin();
      const admin = { access_token: user.access_token, access_token_secret: user.access_token_secret };

      // A configuration, with the emulator's tokens (checked with X).
      const added = await call('POST /api/v1/configurations', () => t.api('POST', '/api/v1/configurations', { account_id: accountId, ...admin }));
      const configId = added[0]!.objectId!;
      await call('PUT /api/v1/audiences/:audienceId', () => t.api('PUT', '/api/v1/audiences/shoppers', { name: 'Shoppers' }));
      const only = { forward_emails: true, forward_twitter_handles: false, forward_device_ids: false };
      await call('PUT /api/v1/audiences/:audienceId/connections/:configurationId', () =>
        t.api('PUT', `/api/v1/audiences/shoppers/connections/${configId}`, only),
      );
      // The cadence alone changes: recorded too.
      const cadence = await call('PUT /api/v1/audiences/:audienceId/connections/:configurationId', () =>
        t.api('PUT', `/api/v1/audiences/shoppers/connections/${configId}`, { ...only, send_interval_minutes: 360 }),
      );
      expect(cadence[0]).toMatchObject({ action: 'connection.updated', details: { send_interval_minutes: 360, changed: 'send_interval_minutes' } });
      await createOnX('shoppers', 'Shoppers');
      const resync = await call('POST /api/v1/audiences/:audienceId/connections/:configurationId/resync', () =>
        t.api('POST', `/api/v1/audiences/shoppers/connections/${configId}/resync`),
      );
      expect(resync[0]).toMatchObject({ action: 'connection.resync_requested', details: { x_audiences: 1 } });

      await call('POST /api/v1/suppressions', () => t.api('POST', '/api/v1/suppressions', { add: [{ email: 'opted.out@example.com' }] }));
      await call('POST /api/v1/erasures', () => t.api('POST', '/api/v1/erasures', { email: 'erase.me@example.com' }));
      await call('POST /firehose', () =>
        t.app.inject({
          method: 'POST',
          url: '/firehose',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(forAccount(fixture('subscription-add.json'), accountId)),
        }),
      );

      // The X login, from a web UI session: the same account's configuration, re-authorized.
      const session = await uiSession();
      const start = await t.app.inject({ method: 'GET', url: '/oauth/x/start', headers: { cookie: session.cookie } });
      expect(start.statusCode).toBe(302);
      const flow = String(start.headers['set-cookie']).split(';')[0]!;
      const token = new URL(String(start.headers.location)).searchParams.get('oauth_token')!;
      const authorized = await fetch(`${emu.url}/oauth/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: FORM,
        body: new URLSearchParams({ oauth_token: token, user_id: user.user_id, action: 'authorize' }).toString(),
      });
      const back = new URL(authorized.headers.get('location')!);
      const chooser = await t.app.inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: { cookie: flow } });
      expect(chooser.statusCode, chooser.body).toBe(200);
      const step = String(chooser.headers['set-cookie']).split(';')[0]!;
      const saved = await call('POST /oauth/x/save', () =>
        t.app.inject({
          method: 'POST',
          url: '/oauth/x/save',
          headers: { ...FORM, cookie: `${session.cookie}; ${step}` },
          payload: new URLSearchParams({ csrf: session.csrf, account_id: accountId, name: 'Saved from the UI' }).toString(),
        }),
      );
      expect(saved.map((e) => [e.actor, e.action])).toEqual([['ui_session', 'configuration.reauthorized']]);

      const fromFirehose = `7622/${configId}`;
      await call('DELETE /api/v1/audiences/:audienceId/connections/:configurationId', () => t.api('DELETE', `/api/v1/audiences/7622/connections/${configId}`));
      const deleted = await call('DELETE /api/v1/audiences/:audienceId', () => t.api('DELETE', '/api/v1/audiences/shoppers'));
      expect(deleted[0]).toMatchObject({ action: 'audience.deleted', details: { x_audiences: 1, force: false } });
      // Already deleted, its X audience waiting on X: forced, it is recorded as such.
      const forced = await call('DELETE /api/v1/audiences/:audienceId', () => t.api('DELETE', '/api/v1/audiences/shoppers?force=true'));
      expect(forced[0]).toMatchObject({ action: 'audience.deletion_forced', details: { x_audiences: 1 } });
      // The worker deletes it on X; then the configuration can go.
      const del = (await t.store.claim(claimOpts(Date.now())))!;
      expect(del.task).toBe('delete');
      expect(await t.store.settleDeleted(del.downstream.id, del.leaseToken, Date.now())).toBe(true);
      await call('DELETE /api/v1/configurations/:id', () => t.api('DELETE', `/api/v1/configurations/${configId}`));

      for (const route of routes) {
        const why = EXEMPT[route];
        if (why !== undefined) expect(recorded.has(route), `${route} is exempt (${why}) but was called`).toBe(false);
        else expect(recorded.has(route), `${route} is neither called by this test nor exempt: does it write its audit entry?`).toBe(true);
      }
      for (const route of [...recorded.keys(), ...Object.keys(EXEMPT)]) expect(routes, `${route} is no longer a route`).toContain(route);

      // Who made each change, by route: the admin token, the UI session, the Firehose.
      const actions = (route: string): string[] => recorded.get(route)!.flatMap((entries) => entries.map(([actor, action]) => `${actor} ${action}`));
      expect(actions('POST /firehose')).toEqual(['firehose audience.created', 'firehose connection.created']);
      expect(actions('POST /api/v1/erasures')).toEqual(['admin_token erasure.requested', 'admin_token erasure.completed']);
      expect(actions('DELETE /api/v1/audiences/:audienceId/connections/:configurationId')).toEqual(['admin_token connection.deleted']);
      expect(recorded.get('DELETE /api/v1/audiences/:audienceId/connections/:configurationId')![0]![0]![2]).toBe(fromFirehose);
      expect(actions('DELETE /api/v1/configurations/:id')).toEqual(['admin_token configuration.deleted']);
      // Never a raw identity.
      const text = JSON.stringify(await t.store.listAudit({ limit: 200 }));
      for (const raw of ['opted.out', 'erase.me', user.access_token]) expect(text).not.toContain(raw);
    });
  });
}

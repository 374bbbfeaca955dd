/**
 * The audit log on every store (issue 14): each store operation that changes a configuration,
 * audience, connection, suppression or erasure writes its entry in its own transaction, so the
 * change and its entry commit together or not at all. A trigger that refuses the audit row rolls
 * the change back; a trigger that refuses a write of the change leaves no entry. Entries are read
 * newest first, paged by id.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import type { AuditEntry, ClaimOptions, Store } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { TMP } from '../support/in-process.ts';
import { h } from './helpers.ts';
import { createTestDatabase } from './pg.ts';

/** A store and a way to run DDL beside it (the test's triggers). */
interface Opened {
  store: Store;
  exec: (sql: string) => Promise<void>;
  cleanup: () => Promise<void>;
}

const DIALECTS: { name: string; open: () => Promise<Opened>; refuse: (table: string) => string; allow: (table: string) => string }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(TMP, 'tailor-audit-'));
      const store = SqliteStore.open(join(dir, 'tailor.db'));
      // A second connection to the file: the schema change reaches the store's connection too.
      const db = new Database(join(dir, 'tailor.db'));
      return {
        store,
        exec: async (sql) => void db.exec(sql),
        cleanup: async () => {
          db.close();
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    refuse: (t) => `CREATE TRIGGER refuse_${t} BEFORE INSERT ON ${t} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;`,
    allow: (t) => `DROP TRIGGER refuse_${t};`,
  },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      const store = await openPostgresStore(db.url);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END; $$`);
      return {
        store,
        exec: async (sql) => void (await client.query(sql)),
        cleanup: async () => {
          await client.end();
          await store.close();
          await db.drop();
        },
      };
    },
    refuse: (t) => `CREATE TRIGGER refuse_${t} BEFORE INSERT ON ${t} FOR EACH ROW EXECUTE FUNCTION refuse()`,
    allow: (t) => `DROP TRIGGER refuse_${t} ON ${t}`,
  },
];

const EMAIL_ONLY = { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false };
const config = (accountId: string) => ({ name: accountId, accountId, accountName: null, xUserId: null, screenName: null, tokens: 'sealed' });
const t0 = 1_000_000;
const claimOpts = (now: number): ClaimOptions => ({
  owner: 'host:1:w',
  now,
  leaseMs: 30_000,
  flushIntervalMs: 1,
  fullBatch: 1000,
  maxChanges: 1000,
  refreshIntervalMs: 1e12,
});

for (const dialect of DIALECTS) {
  describe(`store contract: the audit log (${dialect.name})`, () => {
    let o: Opened;
    let store: Store;
    beforeEach(async () => {
      o = await dialect.open();
      store = o.store;
    });
    afterEach(async () => o.cleanup());

    const all = async (): Promise<AuditEntry[]> => store.listAudit({ limit: 200 });
    const seen = async () => (await all()).map((e) => [e.actor, e.action, e.objectId, e.at]).reverse();

    /** Creates the X audience of a1's e-mail type as a worker would. */
    async function createOnX(now: number): Promise<void> {
      const c = (await store.claim(claimOpts(now)))!;
      expect(c.task).toBe('create');
      await store.settleCreated(
        c.downstream.id,
        c.leaseToken,
        { id: 'x1', name: downstreamName('Buyers', 'email', 1), nameSuffix: 1, audienceSize: null, targetable: false, reasonsNotTargetable: [] },
        now,
      );
    }

    it('every audited operation writes its entry, with its actor and time; nothing changed, nothing written', async () => {
      const { configuration } = await store.putConfiguration(config('acc1'), t0, 'cli');
      const id = configuration.id;
      expect((await store.putConfiguration(config('acc1'), t0 + 1, 'ui_session')).resumed).toBe(false);
      await store.setConfigurationState(id, 'needs_reauth', 'X answered 401', t0 + 2, 'worker');
      await store.setConfigurationState(id, 'needs_reauth', 'X answered 401', t0 + 3, 'worker'); // a second worker: no change
      expect((await store.putConfiguration(config('acc1'), t0 + 4, 'ui_session')).resumed).toBe(true);

      await store.putAudience('a1', 'Buyers', t0 + 5, 'admin_token');
      await store.putAudience('a1', 'Buyers', t0 + 6, 'admin_token'); // unchanged
      await store.putAudience('a1', 'Buyers 2', t0 + 7, 'admin_token');
      await store.putAudience('a1', 'Buyers', t0 + 8, 'admin_token');
      expect((await store.putConnection('a1', id, EMAIL_ONLY, t0 + 9, 'admin_token')).created).toBe(true);
      expect((await store.putConnection('a1', id, EMAIL_ONLY, t0 + 10, 'admin_token')).changed).toBe(false);
      expect((await store.putConnection('a1', id, { ...EMAIL_ONLY, sendIntervalMinutes: 360 }, t0 + 11, 'admin_token')).changed).toBe(true);
      // The X audience is created with its first member (store/creation.ts).
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], t0 + 12);
      await createOnX(t0 + 12);
      expect(await store.requestResync('a1', id, t0 + 13, 'admin_token')).toBe(1);
      expect(await store.requestResync('a1', 'no-such', t0 + 13, 'admin_token')).toBeNull();

      await store.suppress([{ type: 'email', hash: h(9) }], [], t0 + 15, { actor: 'ui_session', details: { rejected: 1 } });
      await store.suppress([{ type: 'email', hash: h(9) }], [], t0 + 16, 'ui_session'); // already listed
      const erased = await store.erase({ requestKey: 'k1', source: 'firehose', memberKeys: [], identities: [{ type: 'email', hash: h(8) }] }, t0 + 17, {
        actor: 'firehose',
        details: { unusable_identities: 2 },
      });
      expect(erased.erasure.state).toBe('done'); // nobody held it: nothing to wait for
      await store.erase({ requestKey: 'k1', source: 'firehose', memberKeys: [], identities: [{ type: 'email', hash: h(8) }] }, t0 + 18, 'firehose');

      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'remove', identities: [] }], t0 + 19);
      expect(await store.deleteAudience('a1', t0 + 20, 'admin_token', { force: false })).toBe(true);
      expect(await store.forceDeletions('a1', t0 + 21, 'admin_token')).toBe(1);
      expect(await store.forceDeletions('nobody', t0 + 21, 'admin_token')).toBe(0);
      expect(await store.deleteConfiguration(id, t0 + 22, 'admin_token')).toBe('in_use'); // its X audience is being deleted: refused, not recorded
      await store.putAudience('a2', 'Second', t0 + 23, 'firehose', { kind: 'firehose', account: 'mparticle:1', configurationId: id });
      await store.putConnection('a2', id, EMAIL_ONLY, t0 + 24, 'firehose');
      expect(await store.deleteConnection('a2', id, t0 + 25, 'firehose')).toBe(true);
      expect(await store.deleteConnection('a2', id, t0 + 26, 'firehose')).toBe(false);

      const a1 = 'a1';
      const k1 = `a1/${id}`;
      expect(await seen()).toEqual([
        ['cli', 'configuration.created', id, t0],
        ['ui_session', 'configuration.reauthorized', id, t0 + 1],
        ['worker', 'configuration.paused', id, t0 + 2],
        ['ui_session', 'configuration.resumed', id, t0 + 4],
        ['admin_token', 'audience.created', a1, t0 + 5],
        ['admin_token', 'audience.renamed', a1, t0 + 7],
        ['admin_token', 'audience.renamed', a1, t0 + 8],
        ['admin_token', 'connection.created', k1, t0 + 9],
        ['admin_token', 'connection.updated', k1, t0 + 11],
        ['admin_token', 'connection.resync_requested', k1, t0 + 13],
        ['ui_session', 'suppression.changed', null, t0 + 15],
        ['firehose', 'erasure.requested', erased.erasure.id, t0 + 17],
        ['firehose', 'erasure.completed', erased.erasure.id, t0 + 17],
        ['admin_token', 'audience.deleted', a1, t0 + 20],
        ['admin_token', 'audience.deletion_forced', a1, t0 + 21],
        ['firehose', 'audience.created', 'a2', t0 + 23],
        ['firehose', 'connection.created', `a2/${id}`, t0 + 24],
        ['firehose', 'connection.deleted', `a2/${id}`, t0 + 25],
      ]);
      const byAction = new Map((await all()).map((e) => [`${e.action}@${e.at}`, e]));
      expect(byAction.get(`configuration.created@${t0}`)).toMatchObject({ configurationId: id, details: { account_id: 'acc1' } });
      expect(byAction.get(`configuration.paused@${t0 + 2}`)!.details).toEqual({ state: 'needs_reauth', reason: 'X answered 401' });
      expect(byAction.get(`connection.created@${t0 + 9}`)).toMatchObject({
        audienceId: 'a1',
        configurationId: id,
        details: { forward_emails: true, forward_twitter_handles: false, forward_device_ids: false, forward_phone_numbers: false, send_interval_minutes: null },
      });
      expect(byAction.get(`connection.updated@${t0 + 11}`)!.details).toMatchObject({ send_interval_minutes: 360, changed: 'send_interval_minutes' });
      expect(byAction.get(`connection.resync_requested@${t0 + 13}`)!.details).toEqual({ x_audiences: 1 });
      expect(byAction.get(`suppression.changed@${t0 + 15}`)!.details).toEqual({ added: 1, lifted: 0, queued: 0, rejected: 1 });
      expect(byAction.get(`erasure.requested@${t0 + 17}`)!.details).toEqual({ source: 'firehose', members_erased: 0, x_audiences: 0, unusable_identities: 2 });
      expect(byAction.get(`erasure.completed@${t0 + 17}`)!.details).toBeNull();
      expect(byAction.get(`audience.deleted@${t0 + 20}`)!.details).toEqual({ x_audiences: 1, force: false });
      expect(byAction.get(`audience.deletion_forced@${t0 + 21}`)!.details).toEqual({ x_audiences: 1 });
      // Never an identity, not even hashed.
      expect(JSON.stringify(await all())).not.toMatch(/0{40}/);
    });

    it('a change and its entry commit together: a refused entry rolls the change back', async () => {
      const { configuration } = await store.putConfiguration(config('acc1'), t0, 'cli');
      await store.putAudience('a1', 'Buyers', t0, 'admin_token');
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], t0);
      const before = (await all()).length;
      await o.exec(dialect.refuse('audit_log'));

      await expect(store.putAudience('a2', 'New', t0 + 1, 'admin_token')).rejects.toThrow(/refused by the test/);
      await expect(store.putAudience('a1', 'Renamed', t0 + 1, 'admin_token')).rejects.toThrow(/refused by the test/);
      await expect(store.putConnection('a1', configuration.id, EMAIL_ONLY, t0 + 1, 'admin_token')).rejects.toThrow(/refused by the test/);
      await expect(store.suppress([{ type: 'email', hash: h(2) }], [], t0 + 1, 'admin_token')).rejects.toThrow(/refused by the test/);
      await expect(
        store.erase({ requestKey: 'k1', source: 'api', memberKeys: [], identities: [{ type: 'email', hash: h(1) }] }, t0 + 1, 'admin_token'),
      ).rejects.toThrow(/refused by the test/);
      await expect(store.setConfigurationState(configuration.id, 'needs_reauth', 'X answered 401', t0 + 1, 'worker')).rejects.toThrow(/refused by the test/);
      await expect(store.deleteAudience('a1', t0 + 1, 'admin_token')).rejects.toThrow(/refused by the test/);
      await expect(store.deleteConfiguration(configuration.id, t0 + 1, 'admin_token')).rejects.toThrow(/refused by the test/);

      // Nothing happened: no audience a2, a1 as it was, with its member; no connection, no
      // suppression, no erasure; the configuration still there and active.
      expect(await store.getAudience('a2')).toBeNull();
      expect((await store.getAudience('a1'))?.name).toBe('Buyers');
      expect(await store.countMembers('a1')).toBe(1);
      expect(await store.listConnections('a1')).toEqual([]);
      expect(
        await store.suppressedAmong([
          { type: 'email', hash: h(1) },
          { type: 'email', hash: h(2) },
        ]),
      ).toEqual([]);
      expect(await store.listErasures(10)).toEqual([]);
      expect((await store.getConfiguration(configuration.id))?.state).toBe('active');
      expect((await all()).length).toBe(before);

      // Once entries are accepted again, the same calls go through, each with its entry.
      await o.exec(dialect.allow('audit_log'));
      await store.putAudience('a2', 'New', t0 + 2, 'admin_token');
      expect((await all())[0]).toMatchObject({ action: 'audience.created', objectId: 'a2', at: t0 + 2 });
    });

    it('a change and its entry commit together: a change that fails half-way leaves no entry', async () => {
      const { configuration } = await store.putConfiguration(config('acc1'), t0, 'cli');
      await store.putAudience('a1', 'Buyers', t0, 'admin_token');
      await store.applyMemberChanges('a1', [{ memberKey: 'm1', action: 'add', identities: [{ type: 'email', hash: h(1) }] }], t0);
      const before = (await all()).length;

      // The connection row is written before its X audience's row, which is refused.
      await o.exec(dialect.refuse('downstreams'));
      await expect(store.putConnection('a1', configuration.id, EMAIL_ONLY, t0 + 1, 'admin_token')).rejects.toThrow(/refused by the test/);
      await o.exec(dialect.allow('downstreams'));
      // The erasure removes the member and suppresses its hash before recording which hashes it waits for, which is refused.
      await o.exec(dialect.refuse('erasure_hashes'));
      await expect(
        store.erase({ requestKey: 'k1', source: 'api', memberKeys: [], identities: [{ type: 'email', hash: h(1) }] }, t0 + 1, 'admin_token'),
      ).rejects.toThrow(/refused by the test/);
      await o.exec(dialect.allow('erasure_hashes'));

      expect(await store.listConnections('a1')).toEqual([]);
      expect(await store.countMembers('a1')).toBe(1);
      expect(await store.suppressedAmong([{ type: 'email', hash: h(1) }])).toEqual([]);
      expect(await store.listErasures(10)).toEqual([]);
      expect((await all()).length).toBe(before);
    });

    it('reads newest first, paged by id', async () => {
      for (let i = 0; i < 5; i += 1) await store.putAudience(`a${i}`, `A${i}`, t0 + i, i % 2 ? 'ui_session' : 'admin_token');
      const { configuration } = await store.putConfiguration(config('acc1'), t0 + 9, 'cli');
      const first = await store.listAudit({ limit: 4 });
      expect(first.map((e) => e.objectId)).toEqual([configuration.id, 'a4', 'a3', 'a2']);
      expect(first[0]).toEqual({
        id: first[0]!.id,
        at: t0 + 9,
        actor: 'cli',
        action: 'configuration.created',
        objectType: 'configuration',
        objectId: configuration.id,
        audienceId: null,
        configurationId: configuration.id,
        details: { account_id: 'acc1' },
      });
      expect(first[1]).toMatchObject({ actor: 'admin_token', audienceId: 'a4', configurationId: null, details: null });
      const rest = await store.listAudit({ beforeId: first[3]!.id, limit: 4 });
      expect(rest.map((e) => e.objectId)).toEqual(['a1', 'a0']);
      expect(await store.listAudit({ beforeId: rest[1]!.id, limit: 4 })).toEqual([]);
    });
  });
}

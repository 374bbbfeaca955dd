/**
 * Where audiences come from (migration 0006), on every store: `putAudience` records the origin,
 * `firehoseAccess` says which audiences a Firehose message for an account may act on, and a
 * Firehose `putAudience` leaves every other audience alone. Then the migration's classification
 * of rows that existed before it, run for real on both dialects.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/port.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { STORES } from './helpers.ts';
import { createTestDatabase } from './pg.ts';

const ALL = { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: true, forwardPhoneNumbers: false };
const config = (accountId: string) => ({ name: accountId, accountId, accountName: null, xUserId: null, screenName: null, tokens: 'sealed' });

for (const factory of STORES) {
  describe(`store contract: audience origin (${factory.name})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let a: string; // configuration of X account acc1
    let b: string; // configuration of X account acc2
    const now = 1_000_000;
    // mParticle account m1 through either configuration, and another mParticle account, m2.
    const m1a = () => ({ account: 'mparticle:1', configurationId: a });
    const m1b = () => ({ account: 'mparticle:1', configurationId: b });
    const m2b = () => ({ account: 'mparticle:2', configurationId: b });
    const fire = (sender: { account: string; configurationId: string }) => ({ kind: 'firehose' as const, ...sender });
    beforeEach(async () => {
      ({ store, cleanup } = await factory.open());
      a = (await store.putConfiguration(config('acc1'), now, 'cli')).configuration.id;
      b = (await store.putConfiguration(config('acc2'), now, 'cli')).configuration.id;
    });
    afterEach(async () => cleanup());

    it('records the origin on creation; REST is the default', async () => {
      expect((await store.putAudience('rest', 'Rest', now, 'admin_token')).audience).toMatchObject({ origin: 'api', originAccount: null });
      expect((await store.putAudience('7622', 'Fire', now, 'firehose', fire(m1a()))).audience).toMatchObject({
        origin: 'firehose',
        originAccount: 'mparticle:1',
      });
      expect(await store.getAudience('7622')).toMatchObject({ origin: 'firehose', originAccount: 'mparticle:1', name: 'Fire' });
      expect(Object.fromEntries((await store.listAudiences()).map((x) => [x.id, [x.origin, x.originAccount]]))).toEqual({
        rest: ['api', null],
        '7622': ['firehose', 'mparticle:1'],
      });
    });

    it('a Firehose message may act only on audiences the Firehose created for its mParticle account', async () => {
      await store.putAudience('1', 'Rest', now, 'admin_token');
      await store.putAudience('2', 'Fire', now, 'firehose', fire(m1a()));
      expect(await store.firehoseAccess('9', m1a())).toBe('unknown');
      expect(await store.firehoseAccess('1', m1a())).toBe('foreign');
      expect(await store.firehoseAccess('2', m1a())).toBe('owned');
      expect(await store.firehoseAccess('2', m1b())).toBe('owned'); // same mParticle account, second X output
      expect(await store.firehoseAccess('2', m2b())).toBe('foreign');

      // A connection gives no other mParticle account a way in, and never makes a REST audience the
      // Firehose's (only rows classified by migration 0006, which have no account, go by connection).
      await store.putConnection('2', b, ALL, now, 'admin_token');
      await store.putConnection('1', a, ALL, now, 'admin_token');
      expect(await store.firehoseAccess('2', m2b())).toBe('foreign');
      expect(await store.firehoseAccess('1', m1a())).toBe('foreign');
    });

    it('a Firehose putAudience leaves a REST or another mParticle account’s audience as it is', async () => {
      await store.putAudience('1', 'Rest', now, 'admin_token');
      await store.putAudience('2', 'Fire', now, 'firehose', fire(m1a()));
      expect(await store.putAudience('1', 'Taken over', now + 1, 'firehose', fire(m1a()))).toMatchObject({ created: false, renamed: false, foreign: true });
      expect(await store.putAudience('2', 'Taken over', now + 1, 'firehose', fire(m2b()))).toMatchObject({ created: false, renamed: false, foreign: true });
      expect(await store.getAudience('1')).toMatchObject({ name: 'Rest', origin: 'api', updatedAt: now });
      expect(await store.getAudience('2')).toMatchObject({ name: 'Fire', origin: 'firehose', originAccount: 'mparticle:1', updatedAt: now });

      // Its own mParticle account renames it; an admin (REST) renames anything and never changes the origin.
      expect(await store.putAudience('2', 'Fire 2', now + 2, 'firehose', fire(m1b()))).toMatchObject({ renamed: true });
      expect((await store.putAudience('2', 'Fire 3', now + 3, 'admin_token')).foreign).toBeUndefined();
      expect(await store.getAudience('2')).toMatchObject({ name: 'Fire 3', origin: 'firehose', originAccount: 'mparticle:1' });
    });
  });
}

/** One dialect's raw access for the migration test: a store on a database, and plain SQL on it. */
interface Raw {
  open(): Promise<Store>;
  exec(sql: string): Promise<void>;
  cleanup(): Promise<void>;
}

async function sqliteRaw(): Promise<Raw> {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-origin-'));
  const path = join(dir, 'tailor.db');
  return {
    open: async () => SqliteStore.open(path),
    async exec(sql) {
      const db = new Database(path);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresRaw(): Promise<Raw> {
  const db = await createTestDatabase();
  return {
    open: () => openPostgresStore(db.url),
    async exec(sql) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    cleanup: () => db.drop(),
  };
}

const DIALECTS: [string, () => Promise<Raw>][] = [
  ['sqlite', sqliteRaw],
  ['postgres', postgresRaw],
];

for (const [name, make] of DIALECTS) {
  describe(`migration 0006 classifies existing audiences (${name})`, () => {
    it('integer ids with a connection are the Firehose’s (for the connected accounts only); every other audience is REST', async () => {
      const raw = await make();
      try {
        // Build the schema as it was before 0006: migrate fully, then take 0006 back out.
        let store = await raw.open();
        const a = (await store.putConfiguration(config('acc1'), 1, 'cli')).configuration;
        const b = (await store.putConfiguration(config('acc2'), 1, 'cli')).configuration;
        for (const id of ['7622', '-15', 'buyers', '12ab', '--3', '99']) await store.putAudience(id, id, 1, 'admin_token');
        for (const id of ['7622', '-15', 'buyers', '12ab', '--3']) await store.putConnection(id, a.id, ALL, 1, 'admin_token');
        await store.close();
        await raw.exec(
          'ALTER TABLE audiences DROP COLUMN origin; ALTER TABLE audiences DROP COLUMN origin_account; DELETE FROM schema_migrations WHERE version = 6;',
        );

        store = await raw.open(); // applies 0006 to the rows above
        try {
          const origins = Object.fromEntries((await store.listAudiences()).map((x) => [x.id, [x.origin, x.originAccount]]));
          expect(origins).toEqual({
            '7622': ['firehose', null],
            '-15': ['firehose', null],
            buyers: ['api', null], // the Firehose cannot name it
            '12ab': ['api', null],
            '--3': ['api', null],
            '99': ['api', null], // no connection: nothing the Firehose was forwarding
          });
          const via = (configurationId: string) => ({ account: 'mparticle:1', configurationId });
          expect(await store.firehoseAccess('7622', via(a.id))).toBe('owned'); // running Firehose deployments go on
          expect(await store.firehoseAccess('7622', via(b.id))).toBe('foreign');
          expect(await store.firehoseAccess('99', via(a.id))).toBe('foreign');
        } finally {
          await store.close();
        }
      } finally {
        await raw.cleanup();
      }
    });
  });
}

/**
 * In-process Firehose tests: the real server (`buildServer`) over a temporary SQLite store, with
 * an X client that is never called (the Firehose path makes no X call). The ledger is read
 * straight from the database file, read-only, to check exact member keys and "nothing changed".
 */
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemberKeys } from '../../src/membership/member-key.ts';
import { buildServer } from '../../src/server/app.ts';
import type { Services } from '../../src/services/deps.ts';
import type { Configuration, Store } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { testServices } from '../support/services.ts';
import { hashHex, memberKeyText } from '../../src/store/binary.ts';

/** The Firehose fixtures, described in test/fixtures/firehose/README.md. */
export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/firehose');

export function fixture(name: string): any {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, name), 'utf8'));
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** A fixture message addressed to another X ad account (fixtures say `18ce54d4x5t`). */
export function forAccount<T extends { account?: { account_settings?: Record<string, string> } }>(msg: T, accountId: string): T {
  const copy = structuredClone(msg);
  if (copy.account?.account_settings) copy.account.account_settings.accountId = accountId;
  return copy;
}

export const ACCOUNT = 'acct0001';

/** The member keys the in-process server builds (its TAILOR_SECRET_KEY is this one). */
const FIREHOSE_SECRET = 'firehose-test-secret-0123456789abcdef';
export const MEMBER_KEYS = new MemberKeys(FIREHOSE_SECRET);
/** The ledger's key for an mpid. */
export const mpidKey = (mpid: string): string => MEMBER_KEYS.of('mpid', mpid);

export interface Harness {
  app: FastifyInstance;
  store: Store;
  configuration: Configuration;
  notified: () => number;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  postRaw(payload: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Every row Tailor keeps about audiences and members, for "nothing changed" checks. */
  snapshot(): Record<string, unknown[]>;
  /** The ledger: (audience, type, hash, member key) rows. */
  members(audienceId?: string): { audience_id: string; identity_type: string; hash: string; member_key: string }[];
  close(): Promise<void>;
}

// tmpfs when there is one: the store fsyncs every commit, which is slow on a shared disk.
const TMP = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export async function startInProcess(
  opts: { firehoseToken?: string; firehoseEncoding?: 'raw' | 'sha256'; wrapStore?: (store: Store) => Store; now?: () => number; log?: Services['log'] } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(TMP, 'tailor-firehose-'));
  const path = join(dir, 'tailor.db');
  const real = SqliteStore.open(path);
  const store = opts.wrapStore ? opts.wrapStore(real) : real;
  let notified = 0;
  const s = testServices(store, { secretKey: FIREHOSE_SECRET, log: opts.log, now: opts.now, notify: () => (notified += 1) });
  const { configuration } = await real.putConfiguration(
    { name: 'Test', accountId: ACCOUNT, accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
    Date.now(),
  );
  const app = await buildServer(s, {
    adminToken: 'admin-token-0123456789',
    firehoseToken: opts.firehoseToken ?? null,
    firehoseEncoding: opts.firehoseEncoding,
  });
  await app.ready();
  const reader = new Database(path, { readonly: true });
  const inject = async (payload: string, headers: Record<string, string>) => {
    const res = await app.inject({ method: 'POST', url: '/firehose', payload, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
  };
  return {
    app,
    store,
    configuration,
    notified: () => notified,
    post: (body, headers = {}) => inject(JSON.stringify(body), headers),
    postRaw: (payload, headers = {}) => inject(payload, headers),
    snapshot() {
      const out: Record<string, unknown[]> = {};
      for (const t of ['audiences', 'connections', 'downstreams', 'members', 'outbox', 'rejections'])
        out[t] = reader.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all();
      return out;
    },
    members(audienceId) {
      const sql = 'SELECT audience_id, identity_type, hash, member_key FROM members';
      const rows =
        audienceId === undefined
          ? reader.prepare(`${sql} ORDER BY 1, 2, 3, 4`).all()
          : reader.prepare(`${sql} WHERE audience_id = ? ORDER BY 1, 2, 3, 4`).all(audienceId);
      // Stored as bytes since 0009 (src/store/binary.ts): read back as the port spells them.
      return (rows as { audience_id: string; identity_type: string; hash: Buffer; member_key: Buffer }[])
        .map((r) => ({
          ...r,
          hash: hashHex(r.hash),
          member_key: memberKeyText(r.member_key),
        }))
        .sort((a, b) => {
          // ORDER BY 1, 2, 3, 4 as it read when the columns were text (the key's kind byte sorts otherwise).
          const ka = [a.audience_id, a.identity_type, a.hash, a.member_key].join('\0');
          const kb = [b.audience_id, b.identity_type, b.hash, b.member_key].join('\0');
          return ka < kb ? -1 : ka > kb ? 1 : 0;
        });
    },
    async close() {
      await app.close();
      reader.close();
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

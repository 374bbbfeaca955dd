/**
 * In-process Firehose tests: the tests' one in-process app (test/support/in-process.ts) over a
 * temporary SQLite store, with an X client that is never called (the Firehose path makes no X
 * call). The ledger is read straight from the database file, read-only, to check exact member
 * keys and "nothing changed".
 */
import type { FastifyInstance } from 'fastify';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { MemberKeys } from '../../src/membership/member-key.ts';
import type { Services } from '../../src/services/deps.ts';
import type { Configuration, Store } from '../../src/store/port.ts';
import { startInProcess as startShared } from '../support/in-process.ts';
import { ledgerRows } from '../support/ledger-rows.ts';

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

export async function startInProcess(
  opts: { firehoseToken?: string; firehoseEncoding?: 'raw' | 'sha256'; wrapStore?: (store: Store) => Store; now?: () => number; log?: Services['log'] } = {},
): Promise<Harness> {
  let notified = 0;
  const h = await startShared({
    secretKey: FIREHOSE_SECRET,
    log: opts.log ?? pino({ level: 'silent' }),
    now: opts.now,
    notify: () => (notified += 1),
    wrapStore: opts.wrapStore,
    configurationAccount: ACCOUNT,
    server: { adminToken: 'admin-token-0123456789', firehoseToken: opts.firehoseToken ?? null, firehoseEncoding: opts.firehoseEncoding },
  });
  const reader = h.reader();
  const inject = async (payload: string, headers: Record<string, string>) => {
    const res = await h.app.inject({ method: 'POST', url: '/firehose', payload, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
  };
  return {
    app: h.app,
    store: h.services.store as Store,
    configuration: h.configuration!,
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
      const sql = 'SELECT audience_id, member_key, identities FROM members';
      const rows = audienceId === undefined ? reader.prepare(sql).all() : reader.prepare(`${sql} WHERE audience_id = ?`).all(audienceId);
      // One row per member since 0019, bytes since 0009 (src/store/binary.ts): read back as rows of one identity, as the port spells them.
      return ledgerRows(rows as Record<string, unknown>[]).sort((a, b) => {
        // ORDER BY 1, 2, 3, 4 as it read when the columns were text (the key's kind byte sorts otherwise).
        const ka = [a.audience_id, a.identity_type, a.hash, a.member_key].join('\0');
        const kb = [b.audience_id, b.identity_type, b.hash, b.member_key].join('\0');
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
    },
    close: () => h.close(),
  };
}

/**
 * The security tests of issue 11 on the tests' one in-process app (test/support/in-process.ts):
 * a temporary SQLite store with one configuration (no X call is made on these paths), its log
 * lines captured, and a read-only view of the ledger to compare what the API reports with what is
 * stored.
 */
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { MemberKeys } from '../../src/membership/member-key.ts';
import type { SqliteStore } from '../../src/store/sqlite/index.ts';
import { startInProcess } from '../support/in-process.ts';

export const TOKEN = 'security-admin-token-0123456789';
const SECRET = 'security-test-secret-0123456789abcdef';
export const ACCOUNT = 'acct0011';

export interface Res {
  status: number;
  body: any;
  raw: string;
}

export interface Server {
  app: FastifyInstance;
  store: SqliteStore;
  /** The member-key builder the app uses, for imports into the same store. */
  memberKeys: MemberKeys;
  dir: string;
  /** Every log line written so far (JSON text, debug level and up). */
  logs(): string;
  /** Any request; an object payload is sent as JSON, a string as is. Fails the test on a 5xx. */
  call(method: string, url: string, payload?: unknown, headers?: Record<string, string>): Promise<Res>;
  /** Each audience's `members` as GET /api/v1/audiences reports it, next to the ledger's distinct member keys. */
  memberCounts(): Promise<{ id: string; reported: number; ledger: number }[]>;
  /** The database files' bytes, to look for raw values. */
  files(): Buffer[];
  close(): Promise<void>;
}

export async function startServer(): Promise<Server> {
  const h = await startInProcess({
    secretKey: SECRET,
    logLevel: 'debug',
    configurationAccount: ACCOUNT,
    configurationName: 'Security',
    server: { adminToken: TOKEN },
  });
  const distinct = h.reader().prepare('SELECT COUNT(DISTINCT member_key) FROM members WHERE audience_id = ?').pluck();

  async function call(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const res = await h.api(method, url, payload, headers);
    const where = `${method} ${url} → ${res.status} ${res.raw.slice(0, 300)}`;
    expect(res.status, where).toBeGreaterThanOrEqual(200);
    expect(res.status, where).toBeLessThan(500);
    expect(res.status >= 300 && res.status < 400, where).toBe(false);
    return { status: res.status, body: res.body, raw: res.raw };
  }

  return {
    app: h.app,
    store: h.store as SqliteStore,
    memberKeys: new MemberKeys(SECRET),
    dir: h.dir!,
    logs: h.logs,
    call,
    async memberCounts() {
      const list = (await call('GET', '/api/v1/audiences')).body.data as { id: string; members: number }[];
      return list.map((a) => ({ id: a.id, reported: a.members, ledger: distinct.get(a.id) as number }));
    },
    files: h.files,
    close: h.close,
  };
}

/** A membership change message for `ACCOUNT`, with the given profiles. */
export function membershipMessage(profiles: unknown[]): Record<string, unknown> {
  return {
    type: 'audience_membership_change_request',
    firehose_version: '3.2.0',
    account: { account_id: 1, account_settings: { accountId: ACCOUNT } },
    user_profiles: profiles,
  };
}

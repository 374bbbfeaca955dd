/**
 * One in-process Tailor for the security tests of issue 11: `buildServer` over a temporary SQLite
 * store with one configuration (no X call is made on these paths), its log lines captured, and a
 * read-only view of the ledger to compare what the API reports with what is stored.
 */
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { expect } from 'vitest';
import { MemberKeys } from '../../src/membership/member-key.ts';
import { buildServer } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { testServices } from '../support/services.ts';

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

const TMP = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export async function startServer(): Promise<Server> {
  const dir = mkdtempSync(join(TMP, 'tailor-security-'));
  const path = join(dir, 'tailor.db');
  const store = SqliteStore.open(path);
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  const memberKeys = new MemberKeys(SECRET);
  const s = testServices(store, { secretKey: SECRET, log: pino({ level: 'debug' }, sink) });
  await store.putConfiguration({ name: 'Security', accountId: ACCOUNT, accountName: null, xUserId: null, screenName: null, tokens: 'sealed' }, Date.now());
  const app = await buildServer(s, { adminToken: TOKEN, firehoseToken: null });
  await app.ready();
  const reader = new Database(path, { readonly: true });
  const distinct = reader.prepare('SELECT COUNT(DISTINCT member_key) FROM members WHERE audience_id = ?').pluck();

  async function call(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const res = await app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${TOKEN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      payload: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    let body: any;
    try {
      body = res.body ? JSON.parse(res.body) : null;
    } catch {
      body = res.body;
    }
    const where = `${method} ${url} → ${res.statusCode} ${res.body.slice(0, 300)}`;
    expect(res.statusCode, where).toBeGreaterThanOrEqual(200);
    expect(res.statusCode, where).toBeLessThan(500);
    expect(res.statusCode >= 300 && res.statusCode < 400, where).toBe(false);
    return { status: res.statusCode, body, raw: res.body };
  }

  return {
    app,
    store,
    memberKeys,
    dir,
    logs: () => logText,
    call,
    async memberCounts() {
      const list = (await call('GET', '/api/v1/audiences')).body.data as { id: string; members: number }[];
      return list.map((a) => ({ id: a.id, reported: a.members, ledger: distinct.get(a.id) as number }));
    },
    files: () => readdirSync(dir).map((f) => readFileSync(join(dir, f))),
    async close() {
      await app.close();
      reader.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
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

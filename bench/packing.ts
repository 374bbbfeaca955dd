/**
 * Packing: X `users` requests for 1,000,000 changes against the fewest X's limits allow.
 *
 * The minimum is computed from sizes measured with JSON.stringify, independently of pack.ts: a
 * body with `o` operations and `u` users weighs `base + o·op + u·user` bytes, so one request holds
 * at most k1 users with one operation, k2 with both; the fewest requests for a adds and r removes
 * follow (the proof is in test/x/pack.test.ts). X's other limit, 2,500 operations per request, never
 * binds: Tailor uses at most two.
 *
 * Measured three ways: the packer alone on 1,000,000 changes; the packer behind the worker's
 * claims (one claim is at most one request's worth, sized per identity type); and the real engine
 * draining a 1,000,000-change backlog into the emulator, counted from the emulator's request log.
 */
import { join } from 'node:path';
import { SecretBox } from '../src/core/secret-box.ts';
import type { IdentityType } from '../src/core/terms.ts';
import { SqliteStore } from '../src/store/sqlite/index.ts';
import { openSqlite } from '../src/store/sqlite/open.ts';
import { BATCH_BY_TYPE } from '../src/sync/worker.ts';
import { sealTokens } from '../src/sync/tokens.ts';
import { USERS_MAX_BODY_BYTES as MAX_BODY_BYTES } from '../src/x/facts.ts';
import { packUsers } from '../src/x/pack.ts';
import type { UserChange } from '../src/x/types.ts';
import { SECRET_KEY, waitFor, type Emu, type TailorProcess } from '../test/e2e/harness.ts';
import { log, sha, timed } from './lib.ts';
import { hashBytes, identitiesBytes, memberKeyBytes } from '../src/store/binary.ts';

export interface PackingResult {
  identityType: IdentityType;
  changes: number;
  adds: number;
  removes: number;
  /** Users per request with one operation (k1) and with both (k2), from measured sizes. */
  k1: number;
  k2: number;
  minimumRequests: number;
  packerRequests: number;
  packerEfficiency: number;
  packerAverageBytes: number;
  claimedRequests: number;
  claimedEfficiency: number;
  packSeconds: number;
}

export interface EngineBacklogResult {
  changes: number;
  minimumRequests: number;
  requests: number;
  efficiency: number;
  usersSent: number;
  averageBytes: number;
  statuses: Record<string, number>;
  drainSeconds: number;
  changesPerSecond: number;
}

function measure(type: IdentityType): { base: number; op: number; user: number } {
  const body = (ops: number, users: number): number => {
    const perOp = Array.from({ length: ops }, (_, i) => (i === 0 ? users : 1));
    return Buffer.byteLength(
      JSON.stringify(
        perOp.map((n, i) => ({ operation_type: i === 0 ? 'Update' : 'Delete', params: { users: Array.from({ length: n }, () => ({ [type]: [sha('x')] })) } })),
      ),
    );
  };
  const user = body(1, 2) - body(1, 1);
  const op = body(2, 1) - body(1, 1) - user;
  const base = body(1, 1) - op - user;
  return { base, op, user };
}

export function capacities(type: IdentityType): { k1: number; k2: number } {
  const { base, op, user } = measure(type);
  return { k1: Math.floor((MAX_BODY_BYTES - base - op) / user), k2: Math.floor((MAX_BODY_BYTES - base - 2 * op) / user) };
}

/** The fewest requests for a adds and r removes of distinct hashes (test/x/pack.test.ts has the proof). */
export function optimum(a: number, r: number, k1: number, k2: number): number {
  if (a === 0 || r === 0) return Math.ceil((a + r) / k1);
  const F = Math.floor(a / k1) + Math.floor(r / k1);
  const ar = a % k1;
  const rr = r % k1;
  if (ar === 0 || rr === 0) return Math.ceil((a + r) / k1);
  return ar + rr <= k2 ? F + 1 : F + 2;
}

/** 1,000,000 e-mail changes, 90% adds and 10% removes interleaved, every hash distinct (coalesced). */
export async function packingBench(count = 1_000_000, type: IdentityType = 'email'): Promise<PackingResult> {
  log(`packing: ${count.toLocaleString('en-US')} ${type} changes`);
  const changes: UserChange[] = Array.from({ length: count }, (_, i) => ({ op: i % 10 === 9 ? 'remove' : 'add', hash: sha(`packing${i}`) }));
  const adds = changes.filter((c) => c.op === 'add').length;
  const removes = count - adds;
  const { k1, k2 } = capacities(type);
  const minimumRequests = optimum(adds, removes, k1, k2);
  const packed = await timed(() => packUsers(type, changes));
  const requests = packed.value;
  const bytes = requests.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0);
  if (requests.some((r) => Buffer.byteLength(r.body) > MAX_BODY_BYTES)) throw new Error('a request exceeds X’s body limit');

  // The engine never packs more than one claim at a time: claims of BATCH_BY_TYPE changes, oldest first.
  let claimedRequests = 0;
  const perClaim = BATCH_BY_TYPE[type];
  for (let i = 0; i < changes.length; i += perClaim) claimedRequests += packUsers(type, changes.slice(i, i + perClaim)).length;

  return {
    identityType: type,
    changes: count,
    adds,
    removes,
    k1,
    k2,
    minimumRequests,
    packerRequests: requests.length,
    packerEfficiency: minimumRequests / requests.length,
    packerAverageBytes: bytes / requests.length,
    claimedRequests,
    claimedEfficiency: minimumRequests / claimedRequests,
    packSeconds: packed.seconds,
  };
}

/**
 * Writes a database holding one configuration (the emulator's admin login), one audience
 * forwarding e-mails only, and a backlog of `count` pending e-mail adds in the outbox, as an
 * import of that many members leaves it (written straight into the outbox here: this measures
 * the sync side, not ingest). `tailor serve` is then started on it.
 */
export async function prepareBacklog(dbPath: string, emu: Emu, count: number): Promise<void> {
  const db = openSqlite(dbPath);
  const store = new SqliteStore(db);
  const { user, accountId } = emu.admin();
  const now = Date.now();
  const box = new SecretBox(SECRET_KEY);
  const { configuration } = await store.putConfiguration(
    {
      name: 'bench',
      accountId,
      accountName: null,
      xUserId: user.user_id,
      screenName: null,
      tokens: sealTokens(box, { accessToken: user.access_token, accessTokenSecret: user.access_token_secret }),
    },
    now,
    'cli',
  );
  await store.putAudience('backlog', 'Bench backlog', now, 'admin_token');
  await store.putConnection(
    'backlog',
    configuration.id,
    { forwardEmails: true, forwardTwitterHandles: false, forwardDeviceIds: false, forwardPhoneNumbers: false },
    now,
    'admin_token',
  );
  const downstream = db.prepare("SELECT id FROM downstreams WHERE audience_id = 'backlog' AND identity_type = 'email'").pluck().get() as number;
  const insert = db.prepare("INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token) VALUES (?, ?, 'add', ?, NULL)");
  // The layout since 0019: one members row per member holding its identities, and each hash's
  // holder count.
  const member = db.prepare("INSERT INTO members (audience_id, member_key, identities) VALUES ('backlog', ?, ?)");
  const holder = db.prepare("INSERT INTO hash_holders (audience_id, identity_type, hash, holders) VALUES ('backlog', 'email', ?, 1)");
  const write = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const hash = sha(`backlog${i}@example.com`);
      // The layout since 0009 (src/store/binary.ts): bytes, not hex.
      member.run(memberKeyBytes(`b${i}`), identitiesBytes([{ type: 'email', hash }]));
      holder.run(hashBytes(hash));
      insert.run(downstream, hashBytes(hash), now);
    }
  });
  for (let i = 0; i < count; i += 100_000) write.immediate(i, Math.min(count, i + 100_000));
  db.prepare("UPDATE audiences SET member_count = ? WHERE id = 'backlog'").run(count);
  await store.close();
}

/** Runs against a `tailor serve` started on a database made by prepareBacklog; waits for the drain. */
export async function engineBacklog(tailor: TailorProcess, emu: Emu, count: number, startedAt: number): Promise<EngineBacklogResult> {
  log(`packing through the engine: draining ${count.toLocaleString('en-US')} e-mail changes into the emulator`);
  await waitFor(
    'the backlog to drain',
    async () => {
      const d = (await tailor.downstreams('backlog')).email;
      return d?.pending === 0 && d.members === count;
    },
    600_000,
    250,
  );
  const drainSeconds = (Date.now() - startedAt) / 1000;
  const xId = (await tailor.downstreams('backlog')).email.x_audience_id as string;
  const calls: { route: string; audience_id: string | null; status: number; users: number | null; bytes: number }[] = [];
  for (let since = 0; ;) {
    const page = await emu.get<{ seq: number; route: string; audience_id: string | null; status: number; users: number | null; bytes: number }[]>(
      `/_emulator/requests?since=${since}&limit=10000`,
    );
    if (page.length === 0) break;
    calls.push(...page);
    since = page[page.length - 1]!.seq;
  }
  const users = calls.filter((c) => c.route === 'POST custom_audience_users' && c.audience_id === xId);
  const ok = users.filter((c) => c.status === 200);
  const statuses: Record<string, number> = {};
  for (const c of users) statuses[String(c.status)] = (statuses[String(c.status)] ?? 0) + 1;
  const { k1, k2 } = capacities('email');
  const minimumRequests = optimum(count, 0, k1, k2);
  return {
    changes: count,
    minimumRequests,
    requests: users.length,
    efficiency: minimumRequests / users.length,
    usersSent: ok.reduce((s, c) => s + (c.users ?? 0), 0),
    averageBytes: ok.reduce((s, c) => s + c.bytes, 0) / Math.max(1, ok.length),
    statuses,
    drainSeconds,
    changesPerSecond: count / drainSeconds,
  };
}

export const backlogDbPath = (dir: string): string => join(dir, 'tailor.db');

import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { AuditActor, Erasure, ErasureInput, HashedIdentity, PrivacySnapshot, SuppressionResult } from '../port.ts';
import { auditEntry, erasureCompleted } from '../audit-entries.ts';
import { recordAudit } from './audit.ts';
import { hashBytes, holdsIdentity, identitiesOf, identityBytes, memberKeyBytes, memberKeyText } from '../binary.ts';
import { FORWARDING_STATES } from '../states.ts';
import type { SqliteLedger } from './ledger.ts';
import { prepared } from './statements.ts';

/*
 * The suppression list and erasures on SQLite (docs/privacy.md). Every function runs inside the
 * caller's IMMEDIATE transaction (one writer per file), so what they read cannot change before
 * they write. Hashes are looked up across audiences and downstream audiences by joining from the
 * small tables (audiences, downstreams) into the primary keys of the big ones (members, x_members,
 * outbox): no index by hash alone is needed.
 */

interface ErasureRow {
  id: string;
  source: 'api' | 'firehose';
  state: 'pending' | 'done';
  received_at: number;
  completed_at: number | null;
  members_erased: number;
  x_audiences: number;
}

const toErasure = (r: ErasureRow): Erasure => ({
  id: r.id,
  source: r.source,
  state: r.state,
  receivedAt: r.received_at,
  completedAt: r.completed_at,
  membersErased: r.members_erased,
  xAudiences: r.x_audiences,
});

export function suppressedAmong(db: Database.Database, ids: HashedIdentity[]): HashedIdentity[] {
  // The common case, an empty list, costs one seek however large the request.
  if (ids.length === 0 || prepared(db, 'SELECT 1 FROM suppressions LIMIT 1').get() === undefined) return [];
  const get = prepared(db, 'SELECT 1 FROM suppressions WHERE identity_type = ? AND hash = ?').pluck();
  return ids.filter((id) => get.get(id.type, hashBytes(id.hash)) !== undefined);
}

/**
 * Puts identities on the list and queues their removal from every downstream audience (any
 * audience, forwarding or detached) whose X audience may hold them or has a change of them
 * pending: last state wins and the claim is cleared, so an in-flight batch that settles later
 * leaves the remove pending. Then lifts: a lifted hash is queued as an add wherever the ledger
 * still holds it (the claim drops the add where X still has it confirmed).
 */
export function suppress(db: Database.Database, add: HashedIdentity[], lift: HashedIdentity[], now: number): SuppressionResult {
  const insert = db.prepare('INSERT INTO suppressions (identity_type, hash, created_at, settled_at) VALUES (?, ?, ?, NULL) ON CONFLICT DO NOTHING');
  const removeEverywhere = db.prepare(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT d.id, @hash, 'remove', @now, NULL FROM downstreams d
     WHERE d.identity_type = @type AND d.state <> 'deleting'
       AND (EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = @hash)
            OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = @hash))
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'remove', claim_token = NULL`,
  );
  const del = db.prepare('DELETE FROM suppressions WHERE identity_type = ? AND hash = ?');
  const sendAgain = db.prepare(
    `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
     SELECT d.id, @hash, 'add', @now, NULL FROM downstreams d
     WHERE d.identity_type = @type AND d.state IN ${FORWARDING_STATES}
       AND EXISTS (SELECT 1 FROM hash_holders m WHERE m.audience_id = d.audience_id AND m.identity_type = @type AND m.hash = @hash)
     ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'add', claim_token = NULL`,
  );
  const result: SuppressionResult = { added: 0, lifted: 0, queued: 0 };
  for (const id of add) {
    if (insert.run(id.type, hashBytes(id.hash), now).changes === 0) continue;
    result.added += 1;
    result.queued += removeEverywhere.run({ hash: hashBytes(id.hash), now, type: id.type }).changes;
  }
  for (const id of lift) {
    if (del.run(id.type, hashBytes(id.hash)).changes === 0) continue;
    result.lifted += 1;
    result.queued += sendAgain.run({ hash: hashBytes(id.hash), now, type: id.type }).changes;
  }
  return result;
}

/** Members found holding identities, by `${audience}\n${type}\n${hash}`: their member keys (bytes). */
export type Holders = Map<string, Buffer[]>;
const holderKey = (audienceId: string, id: HashedIdentity): string => `${audienceId}\n${id.type}\n${id.hash}`;
const SCAN_PAGE = 10_000;

/**
 * The members holding each identity, read before an erasure's write transaction (0019: a member's
 * identities are one value, and no index by hash is kept for a rare request). In each audience
 * whose holder count has the identity, the audience's members are read in key order, a page at a
 * time, and kept where the identity's 33 bytes fall on an identity's boundary (holdsIdentity).
 * Plain reads in pieces: `piece` decides when to let the event loop run, so a scan of millions of
 * members holds neither the write lock nor any other caller. `erase` checks what this found
 * against the holder counts under its lock, and scans again there only if a change came between.
 */
export async function scanHolders(db: Database.Database, identities: HashedIdentity[], piece: () => Promise<void>): Promise<Holders> {
  const out: Holders = new Map();
  const audiences = db
    .prepare('SELECT h.audience_id FROM audiences a JOIN hash_holders h ON h.audience_id = a.id AND h.identity_type = ? AND h.hash = ?')
    .pluck();
  // A page is the members after `after` up to the SCAN_PAGE-th (or the audience's last); SQLite finds
  // the identity's bytes in each (instr), holdsIdentity checks the boundary of the few it finds.
  const bound = db.prepare('SELECT member_key FROM members WHERE audience_id = ? AND member_key > ? ORDER BY member_key LIMIT 1 OFFSET ?').pluck();
  const page = db.prepare(
    'SELECT member_key, identities FROM members WHERE audience_id = ? AND member_key > ? AND member_key <= ? AND instr(identities, ?) > 0',
  );
  const rest = db.prepare('SELECT member_key, identities FROM members WHERE audience_id = ? AND member_key > ? AND instr(identities, ?) > 0');
  const wanted = new Map<string, HashedIdentity[]>(); // audience -> identities it holds
  for (const id of identities)
    for (const audienceId of audiences.all(id.type, hashBytes(id.hash)) as string[]) {
      wanted.set(audienceId, [...(wanted.get(audienceId) ?? []), id]);
      out.set(holderKey(audienceId, id), []);
    }
  for (const [audienceId, ids] of wanted) {
    for (let after: Buffer = Buffer.alloc(0); ;) {
      const upTo = bound.get(audienceId, after, SCAN_PAGE - 1) as Buffer | undefined;
      for (const id of ids) {
        const needle = identityBytes(id);
        const rows = (upTo === undefined ? rest.all(audienceId, after, needle) : page.all(audienceId, after, upTo, needle)) as {
          member_key: Buffer;
          identities: Buffer;
        }[];
        for (const r of rows) if (holdsIdentity(r.identities, id)) out.get(holderKey(audienceId, id))!.push(r.member_key);
      }
      if (upTo === undefined) break;
      after = upTo;
      await piece();
    }
  }
  return out;
}

/**
 * An erasure: finds the members (every audience) holding a given identity or keyed by a given
 * member key, removes them through the ledger (so each hash's holders move as for any remove, and
 * X is told where the last holder left), suppresses every identity they held and every identity
 * given, and records the erasure with the hashes it waits for. The member keys are not recorded.
 * `scanned` is what scanHolders read before this transaction: kept where it is still true, and
 * complete when it accounts for every holder the counts have (else the audience is scanned again
 * here, under the write lock).
 */
export function erase(
  db: Database.Database,
  ledger: SqliteLedger,
  input: ErasureInput,
  now: number,
  scanned: Holders = new Map(),
): { erasure: Erasure; created: boolean } {
  const existing = db.prepare('SELECT * FROM erasures WHERE request_key = ?').get(input.requestKey) as ErasureRow | undefined;
  if (existing) return { erasure: toErasure(existing), created: false };

  const holdingAudiences = db.prepare(
    'SELECT h.audience_id, h.holders FROM audiences a JOIN hash_holders h ON h.audience_id = a.id AND h.identity_type = ? AND h.hash = ?',
  );
  const memberRow = db.prepare('SELECT identities FROM members WHERE audience_id = ? AND member_key = ?').pluck();
  const scan = db.prepare('SELECT member_key, identities FROM members WHERE audience_id = ? AND instr(identities, ?) > 0');
  const byIdentity = (id: HashedIdentity): { audience_id: string; member_key: Buffer }[] =>
    (holdingAudiences.all(id.type, hashBytes(id.hash)) as { audience_id: string; holders: number }[]).flatMap(({ audience_id, holders }) => {
      const still = (scanned.get(holderKey(audience_id, id)) ?? []).filter((key) => {
        const stored = memberRow.get(audience_id, key) as Buffer | undefined;
        return stored !== undefined && holdsIdentity(stored, id);
      });
      const keys =
        still.length === holders
          ? still
          : (scan.all(audience_id, identityBytes(id)) as { member_key: Buffer; identities: Buffer }[])
              .filter((r) => holdsIdentity(r.identities, id))
              .map((r) => r.member_key);
      return keys.map((member_key) => ({ audience_id, member_key }));
    });
  const byKey = db.prepare('SELECT m.audience_id, m.member_key FROM audiences a JOIN members m ON m.audience_id = a.id AND m.member_key = ?');
  const found = new Map<string, Set<string>>(); // audience -> member keys
  const note = (r: { audience_id: string; member_key: Buffer }): void => {
    let keys = found.get(r.audience_id);
    if (!keys) found.set(r.audience_id, (keys = new Set()));
    keys.add(memberKeyText(r.member_key));
  };
  for (const id of input.identities) for (const r of byIdentity(id)) note(r);
  for (const key of input.memberKeys) for (const r of byKey.all(memberKeyBytes(key)) as { audience_id: string; member_key: Buffer }[]) note(r);

  const identities = new Map<string, HashedIdentity>();
  const keep = (id: HashedIdentity): void => void identities.set(`${id.type}\n${id.hash}`, id);
  input.identities.forEach(keep);
  let members = 0;
  for (const [audienceId, keys] of found) {
    for (const key of keys) {
      const stored = memberRow.get(audienceId, memberKeyBytes(key)) as Buffer | undefined;
      if (stored !== undefined) identitiesOf(stored).forEach(keep);
    }
    members += keys.size;
    ledger.apply(
      audienceId,
      [...keys].map((memberKey) => ({ memberKey, action: 'remove' as const, identities: [] })),
      now,
    );
  }

  const all = [...identities.values()];
  const targets = db.prepare(
    `SELECT d.id FROM downstreams d WHERE d.identity_type = @type AND d.state <> 'deleting'
       AND (EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = @hash)
            OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = @hash))`,
  );
  const xAudiences = new Set<number>();
  for (const id of all) for (const r of targets.all({ type: id.type, hash: hashBytes(id.hash) }) as { id: number }[]) xAudiences.add(r.id);

  suppress(db, all, [], now);
  const id = randomUUID();
  db.prepare(
    "INSERT INTO erasures (id, request_key, source, state, received_at, completed_at, members_erased, x_audiences) VALUES (?, ?, ?, 'pending', ?, NULL, ?, ?)",
  ).run(id, input.requestKey, input.source, now, members, xAudiences.size);
  const addHash = db.prepare('INSERT OR IGNORE INTO erasure_hashes (erasure_id, identity_type, hash) VALUES (?, ?, ?)');
  for (const h of all) addHash.run(id, h.type, hashBytes(h.hash));
  return { erasure: getErasure(db, id)!, created: true };
}

export function getErasure(db: Database.Database, id: string): Erasure | null {
  const r = db.prepare('SELECT * FROM erasures WHERE id = ?').get(id) as ErasureRow | undefined;
  return r ? toErasure(r) : null;
}

export function listErasures(db: Database.Database, limit: number): Erasure[] {
  const pending = db.prepare("SELECT * FROM erasures WHERE state = 'pending' ORDER BY received_at, id LIMIT ?").all(limit) as ErasureRow[];
  const done = db
    .prepare("SELECT * FROM erasures WHERE state = 'done' ORDER BY completed_at DESC, id LIMIT ?")
    .all(Math.max(0, limit - pending.length)) as ErasureRow[];
  return [...pending, ...done].map(toErasure);
}

/**
 * A suppression is settled once no downstream audience's X ledger holds its hash and no change of
 * it is pending (X acknowledged every removal); an erasure is done once each of its hashes is
 * settled or no longer suppressed, and its completion is audited by `actor` (the worker whose
 * settle saw it; the requester's when nothing was left to wait for). Runs in the transaction of
 * every write that can settle one, so `completed_at` is the moment of that write. Cheap when
 * nothing is outstanding: both read partial indexes.
 */
export function settlePrivacy(db: Database.Database, now: number, actor: AuditActor): void {
  db.prepare(
    `UPDATE suppressions SET settled_at = @now WHERE settled_at IS NULL AND NOT EXISTS (
       SELECT 1 FROM downstreams d WHERE d.identity_type = suppressions.identity_type
         AND (EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = suppressions.hash)
              OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = suppressions.hash)))`,
  ).run({ now });
  const done = db
    .prepare(
      `UPDATE erasures SET state = 'done', completed_at = @now WHERE state = 'pending' AND NOT EXISTS (
         SELECT 1 FROM erasure_hashes e JOIN suppressions s ON s.identity_type = e.identity_type AND s.hash = e.hash
         WHERE e.erasure_id = erasures.id AND s.settled_at IS NULL) RETURNING id`,
    )
    .pluck()
    .all({ now }) as string[];
  for (const id of done.sort()) recordAudit(db, auditEntry(actor, erasureCompleted(id)), now);
}

export function privacySnapshot(db: Database.Database): PrivacySnapshot {
  const e = db.prepare("SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM erasures WHERE state = 'pending'").get() as { n: number; oldest: number | null };
  const s = db.prepare('SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM suppressions WHERE settled_at IS NULL').get() as {
    n: number;
    oldest: number | null;
  };
  const blocking =
    s.n === 0
      ? []
      : (db
          .prepare(
            `SELECT c.id AS configurationId, c.name FROM configurations c WHERE c.state <> 'active' AND EXISTS (
               SELECT 1 FROM downstreams d JOIN suppressions s ON s.identity_type = d.identity_type AND s.settled_at IS NULL
               WHERE d.configuration_id = c.id
                 AND (EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = d.id AND x.hash = s.hash)
                      OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id AND o.hash = s.hash)))
             ORDER BY c.name, c.id`,
          )
          .all() as { configurationId: string; name: string }[]);
  return { pendingErasures: e.n, oldestPendingErasureAt: e.oldest, pendingSuppressions: s.n, oldestPendingSuppressionAt: s.oldest, reauthBlocking: blocking };
}

import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { downstreamName } from '../../core/names.ts';
import type { IdentityType } from '../../core/terms.ts';
import type { Claim, ClaimOptions, Task } from '../port.ts';
import { hashHex } from '../binary.ts';
import { renewalStepAllowed } from '../renewals.ts';
import { cadenceOpen, nextSendAfter, resyncRunning } from '../cadence.ts';
import { WORKED_STATES } from '../states.ts';
import { toConfiguration, toDownstream, type ConfigurationRow, type DownstreamRow } from '../rows.ts';
import { holdsFullBatch, statementsOf } from './due-check.ts';

type Candidate = DownstreamRow & { audience_name: string | null; renew_claimed_at: number; resync_cursor: Buffer | null };

/**
 * Picks the downstream audience that has waited longest since its last claim and has work, and
 * leases it. Runs inside an IMMEDIATE transaction (the caller's), so two workers of one process
 * or of several processes on one file never lease the same row. A lease whose expiry has passed is
 * free: its worker died or hung, and its settle will no longer match the token.
 */
export function claim(db: Database.Database, opts: ClaimOptions): Claim | null {
  const candidates = db
    .prepare(
      `SELECT d.*, a.name AS audience_name FROM downstreams d
       JOIN configurations c ON c.id = d.configuration_id
       LEFT JOIN audiences a ON a.id = d.audience_id AND d.state <> 'deleting'
       WHERE c.state = 'active'
         AND d.state IN ${WORKED_STATES}
         AND d.next_attempt_at <= ?
         AND (d.lease_token IS NULL OR d.lease_expires_at < ?)
       ORDER BY d.last_claimed_at, d.id`,
    )
    .all(opts.now, opts.now) as Candidate[];

  for (const row of candidates) {
    const task = taskFor(db, row, opts);
    if (task === null) continue;
    const token = randomUUID();
    db.prepare('UPDATE downstreams SET lease_owner = ?, lease_token = ?, lease_expires_at = ?, last_claimed_at = ? WHERE id = ?').run(
      opts.owner,
      token,
      opts.now + opts.leaseMs,
      opts.now,
      row.id,
    );
    const configuration = toConfiguration(db.prepare('SELECT * FROM configurations WHERE id = ?').get(row.configuration_id) as ConfigurationRow);
    const max = batchOf(row, opts, 'maxChanges');
    // Under a cadence whose window is closed, a send is a resync's alone: no changes go early.
    const open = cadenceOpen(row, opts.now);
    const changes = task === 'send' && open ? claimChanges(db, row.id, token, max) : [];
    // Renewals wait for the cadence's window like changes; a resync goes at once.
    const renewals = task === 'send' && (open || resyncRunning(row)) ? claimRenewals(db, row, opts, max - changes.length) : [];
    const nextSend = task === 'send' && open ? nextSendAfter(row, opts.now, changes.length, max) : null;
    if (nextSend !== null) db.prepare('UPDATE downstreams SET next_send_at = ? WHERE id = ?').run(nextSend, row.id);
    if (task === 'send' && changes.length === 0 && renewals.length === 0) {
      // Every pending change was a no-op against the X ledger; nothing to send after all.
      db.prepare('UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?').run(row.id);
      continue;
    }
    return {
      task,
      leaseToken: token,
      downstream: toDownstream({ ...row, lease_token: token }),
      audienceName: row.audience_name,
      configuration,
      changes: changes.map(({ hash, op }) => ({ hash: hashHex(hash), op })),
      renewals,
      createAttemptName: row.create_attempt_name,
      ...(resyncRunning(row) && renewals.length > 0 ? { resyncCursor: renewals[renewals.length - 1]! } : {}),
      // Rows come oldest first: the first one's enqueue time starts the batch's sync latency.
      ...(changes[0] ? { oldestEnqueuedAt: changes[0].enqueued_at } : {}),
    };
  }
  return null;
}

/** The batch size for this downstream audience's identity type, when the worker gives one per type. */
function batchOf(row: Candidate, opts: ClaimOptions, key: 'fullBatch' | 'maxChanges'): number {
  return opts.maxChangesByType?.[row.identity_type as IdentityType] ?? opts[key];
}

function taskFor(db: Database.Database, row: Candidate, opts: ClaimOptions): Task | null {
  if (row.state === 'deleting') return 'delete';
  if (row.audience_name === null) return null; // audience row gone but not yet marked: nothing to do
  if (row.x_audience_id === null) return 'create';
  if (row.x_name !== downstreamName(row.audience_name, row.identity_type as never, row.name_suffix)) return 'rename';
  // MIN over the (downstream_id, enqueued_at) index is one seek; fullness is due-check.ts's.
  const oldest = statementsOf(db).oldest.get(row.id) as number | null;
  const open = cadenceOpen(row, opts.now);
  if (oldest !== null && open) {
    if (oldest <= opts.now - opts.flushIntervalMs) return 'send';
    if (holdsFullBatch(db, row.id, batchOf(row, opts, 'fullBatch'))) return 'send';
  }
  if (row.resync_before !== null) return 'send';
  if (open && renewalStepAllowed(row.renew_claimed_at, opts)) {
    const oldest = db.prepare('SELECT MIN(confirmed_at) FROM x_members WHERE downstream_id = ? AND confirmed = 1').pluck().get(row.id) as number | null;
    if (oldest !== null && oldest <= opts.now - opts.renewAfterMs) return 'send';
  }
  if ((row.refreshed_at === null || row.refreshed_at <= opts.now - opts.refreshIntervalMs) && row.refresh_after <= opts.now) return 'refresh';
  return null;
}

/**
 * Marks the oldest pending changes with the lease token, drops those that cannot change X (an add
 * of a hash X confirmed, a remove of a hash X surely lacks), and marks the rest uncertain in the X
 * ledger before they go out: until X's answer is settled, Tailor does not know whether they landed.
 */
function claimChanges(db: Database.Database, downstreamId: number, token: string, max: number): { hash: Buffer; op: 'add' | 'remove'; enqueued_at: number }[] {
  db.prepare(
    `UPDATE outbox SET claim_token = ? WHERE downstream_id = ? AND hash IN
       (SELECT hash FROM outbox WHERE downstream_id = ? ORDER BY enqueued_at LIMIT ?)`,
  ).run(token, downstreamId, downstreamId, max);
  db.prepare(
    `DELETE FROM outbox WHERE downstream_id = ? AND claim_token = ? AND (
       (op = 'add' AND EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = outbox.downstream_id AND x.hash = outbox.hash AND x.confirmed = 1))
       OR (op = 'remove' AND NOT EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = outbox.downstream_id AND x.hash = outbox.hash)))`,
  ).run(downstreamId, token);
  const uncertain = db
    .prepare(
      `UPDATE x_members SET confirmed = 0 WHERE downstream_id = ? AND confirmed = 1 AND hash IN
         (SELECT hash FROM outbox WHERE downstream_id = ? AND claim_token = ? AND op = 'remove')`,
    )
    .run(downstreamId, downstreamId, token).changes;
  db.prepare(
    `INSERT INTO x_members (downstream_id, hash, confirmed)
     SELECT downstream_id, hash, 0 FROM outbox WHERE downstream_id = ? AND claim_token = ? AND op = 'add'
     ON CONFLICT (downstream_id, hash) DO NOTHING`,
  ).run(downstreamId, token);
  if (uncertain > 0) db.prepare('UPDATE downstreams SET members = members - ? WHERE id = ?').run(uncertain, downstreamId);
  return db.prepare('SELECT hash, op, enqueued_at FROM outbox WHERE downstream_id = ? AND claim_token = ? ORDER BY enqueued_at').all(downstreamId, token) as {
    hash: Buffer;
    op: 'add' | 'remove';
    enqueued_at: number;
  }[];
}

/**
 * The hashes X confirmed longest ago, past the renewal age, that are still held and have no
 * pending change (a pending remove must not be undone by a renewal; a pending add sends it anyway).
 * They are not marked uncertain: present before, present after, whatever X answers or whether it
 * answers at all (an unsettled renewal stays due and goes again). The step is recorded even when
 * it finds nothing, so a hash it must skip costs one look per flush interval, not a busy loop.
 */
function claimRenewals(db: Database.Database, row: Candidate, opts: ClaimOptions, room: number): string[] {
  if (room <= 0) return []; // a full batch: a later claim
  if (resyncRunning(row)) return claimResync(db, row, room);
  // Too soon (renewals.ts says why they are spread): a later claim.
  if (!renewalStepAllowed(row.renew_claimed_at, opts)) return [];
  db.prepare('UPDATE downstreams SET renew_claimed_at = ? WHERE id = ?').run(opts.now, row.id);
  return db
    .prepare(
      `SELECT x.hash FROM x_members x
       WHERE x.downstream_id = ? AND x.confirmed = 1 AND x.confirmed_at <= ?
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = x.downstream_id AND o.hash = x.hash)
         AND EXISTS (SELECT 1 FROM members m WHERE m.audience_id = ? AND m.identity_type = ? AND m.hash = x.hash)
       ORDER BY x.confirmed_at LIMIT ?`,
    )
    .pluck()
    .all(row.id, opts.now - opts.renewAfterMs, row.audience_id, row.identity_type, room)
    .map((hash) => hashHex(hash as Buffer));
}

/**
 * The resync's next hashes (cadence.ts): confirmed before it was asked for, after its cursor in
 * hash order (the X ledger's primary key), still held, with no pending change. None left: it ends.
 */
function claimResync(db: Database.Database, row: Candidate, room: number): string[] {
  const hashes = db
    .prepare(
      `SELECT x.hash FROM x_members x
       WHERE x.downstream_id = ? AND x.hash > ? AND x.confirmed = 1 AND x.confirmed_at < ?
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = x.downstream_id AND o.hash = x.hash)
         AND EXISTS (SELECT 1 FROM members m WHERE m.audience_id = ? AND m.identity_type = ? AND m.hash = x.hash)
       ORDER BY x.hash LIMIT ?`,
    )
    .pluck()
    .all(row.id, row.resync_cursor ?? Buffer.alloc(0), row.resync_before, row.audience_id, row.identity_type, room)
    .map((hash) => hashHex(hash as Buffer));
  if (hashes.length === 0) db.prepare('UPDATE downstreams SET resync_before = NULL, resync_cursor = NULL WHERE id = ?').run(row.id);
  return hashes;
}

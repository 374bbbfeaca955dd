import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { downstreamName } from '../../core/names.ts';
import type { IdentityType } from '../../core/terms.ts';
import type { Claim, ClaimOptions, Task } from '../port.ts';
import { hashHex } from '../binary.ts';
import { RENEWAL_SCAN_ROWS, renewalStepAllowed, renewalSteps, runRenewalSteps, type RenewalState, type ScannedRow } from '../renewals.ts';
import { cadenceOpen, nextSendAfter, optOutWaitingSql, resyncRunning } from '../cadence.ts';
import { WORKED_STATES } from '../states.ts';
import { waitingForMemberSql } from '../creation.ts';
import { downstreamNameSql } from '../name-sql.ts';
import { toConfiguration, toDownstream, type ConfigurationRow, type DownstreamRow } from '../rows.ts';
import { holdsFullBatch, statementsOf } from './due-check.ts';
import { settlePrivacy } from './privacy.ts';
import { NEVER, type SliceEnd } from './slice-end.ts';

/** A downstream row as the claim reads it (renewals, resync and cadence columns included). */
type LeasedRow = DownstreamRow & RenewalState & { renew_claimed_at: number; resync_cursor: Buffer | null };
type Candidate = LeasedRow & { audience_name: string | null };

/**
 * Picks the downstream audience that has waited longest since its last claim and has work, and
 * leases it. Runs inside an IMMEDIATE transaction (the caller's), so two workers of one process
 * or of several processes on one file never lease the same row. A lease whose expiry has passed is
 * free: its worker died or hung, and its settle will no longer match the token.
 */
/** Where a claim's marking stopped: the last outbox row it took, in (enqueued_at, hash) order. */
export interface ClaimCursor {
  enqueuedAt: number;
  hash: Buffer;
}

/** A claim whose changes are still being marked, slice by slice (continueClaim). */
export interface PartialClaim {
  claim: Claim;
  /** Still to mark: the batch is not yet full and the outbox may hold more. null: complete. */
  cursor: ClaimCursor | null;
  /** The batch size for this downstream audience. */
  max: number;
  /** The claim's rows as marked (with their enqueue times), kept for the last slice. */
  rows: ClaimedRow[];
  /** Whether the cadence's window was open at the claim (cadence.ts): if not, only a resync goes. */
  open: boolean;
}

type ClaimedRow = { hash: Buffer; op: 'add' | 'remove'; enqueued_at: number };

/**
 * Picks the downstream audience that has waited longest since its last claim and has work, and
 * leases it. Runs inside an IMMEDIATE transaction (the caller's), so two workers of one process
 * or of several processes on one file never lease the same row. A lease whose expiry has passed is
 * free: its worker died or hung, and its settle will no longer match the token.
 *
 * A send marks its changes until `deadline` (slice-end.ts) says the slice is over and then stops: the caller commits,
 * lets the event loop run, and goes on with continueClaim in a new transaction under the lease
 * (index.ts), so a claim of 60,000 changes never holds the loop for more than one slice. The
 * changes are taken oldest first by (enqueued_at, hash), the order of the outbox_by_age index, and
 * a cursor remembers where a slice stopped. A row rewritten by a request between two slices loses
 * its token (ledger.ts) and keeps its enqueue time, so it lies behind the cursor and is not taken
 * again: it stays pending for the next batch, exactly as a row rewritten while the batch is at X.
 */
export function claim(db: Database.Database, opts: ClaimOptions, deadline: SliceEnd = NEVER): PartialClaim | null {
  const candidates = candidatesOf(db).all({
    now: opts.now,
    flush: opts.flushIntervalMs,
    refresh: opts.refreshIntervalMs,
    renew: opts.renewAfterMs ?? null,
  }) as Candidate[];

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
    // A detached X audience only ever gets removes of suppressed hashes, sent at once: no cadence.
    // Under a cadence whose window is closed, a send is a resync's alone: no changes go early.
    const open = row.state === 'detached' || cadenceOpen(row, opts.now, () => optOutWaiting(db, row.id));
    const rows: ClaimedRow[] = [];
    const cursor = task === 'send' && open ? markChanges(db, row.id, row.identity_type, token, max, null, rows, deadline, opts.now) : null;
    const partial: PartialClaim = {
      claim: {
        task,
        leaseToken: token,
        downstream: toDownstream({ ...row, lease_token: token }),
        audienceName: row.audience_name,
        configuration,
        changes: [],
        renewals: [],
        createAttemptName: row.create_attempt_name,
      },
      cursor,
      max,
      rows,
      open,
    };
    if (task !== 'send' || cursor !== null) return partial;
    if (finishClaim(db, partial, opts, row)) return partial;
    // Every pending change was a no-op against the X ledger; nothing to send after all.
  }
  return null;
}

/**
 * One more slice of a send's marking, in its own IMMEDIATE transaction under the claim's lease.
 * Returns false when the lease is no longer this claim's (it expired and was taken over), or when
 * the finished claim holds nothing to send (its lease is then given back).
 */
export function continueClaim(db: Database.Database, partial: PartialClaim, opts: ClaimOptions, deadline: SliceEnd): boolean {
  const c = partial.claim;
  const row = db.prepare('SELECT * FROM downstreams WHERE id = ? AND lease_token = ?').get(c.downstream.id, c.leaseToken) as LeasedRow | undefined;
  if (row === undefined || partial.cursor === null) return false;
  partial.cursor = markChanges(db, row.id, row.identity_type, c.leaseToken, partial.max, partial.cursor, partial.rows, deadline, opts.now);
  if (partial.cursor !== null) return true;
  return finishClaim(db, partial, opts, row);
}

/**
 * A claim cut short after some slices committed (a later slice failed: the database refused a
 * write). What the committed slices marked is a valid, smaller batch under the lease, so it is sent
 * rather than left holding the lease, and its changes, until the lease expires. No renewals (nor a
 * resync's hashes), and a cadence's window stays open: the next claim sends the rest.
 */
export function claimOfMarked(partial: PartialClaim): Claim {
  const c = partial.claim;
  c.changes = partial.rows.map(({ hash, op }) => ({ hash: hashHex(hash), op }));
  if (partial.rows[0]) c.oldestEnqueuedAt = partial.rows[0].enqueued_at;
  partial.cursor = null;
  return c;
}

/**
 * The last slice, once the batch is complete: renewals (or a running resync's next hashes) top it
 * up, the cadence's next window is set, and an empty batch gives its lease back.
 */
function finishClaim(db: Database.Database, partial: PartialClaim, opts: ClaimOptions, row: LeasedRow): boolean {
  const c = partial.claim;
  // A detached X audience is sent only the removes of suppressed hashes, never renewals nor a resync.
  const detached = row.state === 'detached';
  // Renewals wait for the cadence's window like changes; a resync goes at once.
  const renewals = !detached && (partial.open || resyncRunning(row)) ? claimRenewals(db, row, opts, partial.max - partial.rows.length) : [];
  const nextSend = partial.open && !detached ? nextSendAfter(row, opts.now, partial.rows.length, partial.max) : null;
  if (nextSend !== null) db.prepare('UPDATE downstreams SET next_send_at = ? WHERE id = ?').run(nextSend, row.id);
  if (partial.rows.length === 0 && renewals.length === 0) {
    db.prepare('UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?').run(row.id);
    return false;
  }
  c.changes = partial.rows.map(({ hash, op }) => ({ hash: hashHex(hash), op }));
  c.renewals = renewals;
  if (resyncRunning(row) && renewals.length > 0) c.resyncCursor = renewals[renewals.length - 1]!;
  // Rows come oldest first: the first one's enqueue time starts the batch's sync latency.
  if (partial.rows[0]) c.oldestEnqueuedAt = partial.rows[0].enqueued_at;
  return true;
}

/**
 * The downstream audiences a claim looks at, least recently claimed first. Only rows that may have
 * a task are read: each branch of taskFor below is a condition here (a deletion, a creation due,
 * a rename due, pending changes, a resync, a renewal that could be due, a refresh due), and
 * taskFor decides. Without it every claim of an idle installation read and looked at every
 * downstream row: with 20,000 X audiences each idle loop's claim held the event loop for seconds
 * (bench/status-list.ts), and requests waited behind it.
 */
const CANDIDATES = `SELECT d.*, a.name AS audience_name FROM downstreams d
  JOIN configurations c ON c.id = d.configuration_id
  LEFT JOIN audiences a ON a.id = d.audience_id AND d.state <> 'deleting'
  WHERE c.state = 'active'
    AND (d.state IN ${WORKED_STATES} OR (d.state = 'detached' AND d.x_audience_id IS NOT NULL AND EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id)))
    -- No X audience yet and no member to send: it is created with its first (creation.ts).
    AND NOT ${waitingForMemberSql('d')}
    AND d.next_attempt_at <= @now
    AND (d.lease_token IS NULL OR d.lease_expires_at < @now)
    AND (d.state IN ('deleting', 'detached') OR d.x_audience_id IS NULL
      OR d.x_name IS NOT ${downstreamNameSql('a.name', 'd.identity_type', 'd.name_suffix')}
      OR EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = d.id)
      OR d.resync_before IS NOT NULL
      -- A renewal pass running, or its bound of the oldest confirmation past the age (../renewals.ts).
      OR (@renew IS NOT NULL AND d.renew_claimed_at <= @now - @flush AND (d.renew_pass_min IS NOT NULL OR d.renew_bound <= @now - @renew))
      OR ((d.refreshed_at IS NULL OR d.refreshed_at <= @now - @refresh) AND d.refresh_after <= @now))
  ORDER BY d.last_claimed_at, d.id`;

interface ClaimStatements {
  candidates: Database.Statement;
  optOutWaiting: Database.Statement;
}

const claiming = new WeakMap<Database.Database, ClaimStatements>();

/** Prepared once per connection: every idle loop claims about once a second. */
function claimStatements(db: Database.Database): ClaimStatements {
  let s = claiming.get(db);
  if (s === undefined) {
    s = {
      candidates: db.prepare(CANDIDATES),
      optOutWaiting: db.prepare(`SELECT ${optOutWaitingSql('d')} FROM downstreams d WHERE d.id = ?`).pluck(),
    };
    claiming.set(db, s);
  }
  return s;
}

const candidatesOf = (db: Database.Database): Database.Statement => claimStatements(db).candidates;

/** Whether a suppressed hash's change waits for this downstream audience (cadence.ts: it opens the window). */
function optOutWaiting(db: Database.Database, downstreamId: number): boolean {
  return (claimStatements(db).optOutWaiting.get(downstreamId) as number) === 1;
}

/** The batch size for this downstream audience's identity type, when the worker gives one per type. */
function batchOf(row: Candidate, opts: ClaimOptions, key: 'fullBatch' | 'maxChanges'): number {
  return opts.maxChangesByType?.[row.identity_type as IdentityType] ?? opts[key];
}

function taskFor(db: Database.Database, row: Candidate, opts: ClaimOptions): Task | null {
  if (row.state === 'deleting') return 'delete';
  // A detached X audience is no longer written, but a suppressed hash must leave it (docs/privacy.md):
  // the only changes it ever gets are those removes, sent at once.
  if (row.state === 'detached') return statementsOf(db).oldest.get(row.id) !== null ? 'send' : null;
  if (row.audience_name === null) return null; // audience row gone but not yet marked: nothing to do
  if (row.x_audience_id === null) return 'create'; // it has a pending add: the WHERE above (creation.ts)
  if (row.x_name !== downstreamName(row.audience_name, row.identity_type as never, row.name_suffix)) return 'rename';
  // MIN over the (downstream_id, enqueued_at) index is one seek; fullness is due-check.ts's.
  const oldest = statementsOf(db).oldest.get(row.id) as number | null;
  const open = cadenceOpen(row, opts.now, () => optOutWaiting(db, row.id));
  if (oldest !== null && open) {
    if (oldest <= opts.now - opts.flushIntervalMs) return 'send';
    if (holdsFullBatch(db, row.id, batchOf(row, opts, 'fullBatch'))) return 'send';
  }
  if (row.resync_before !== null) return 'send';
  if (open && renewalStepAllowed(row.renew_claimed_at, opts)) {
    if (row.renew_pass_min !== null || (row.renew_bound !== null && row.renew_bound <= opts.now - opts.renewAfterMs)) return 'send';
  }
  if ((row.refreshed_at === null || row.refreshed_at <= opts.now - opts.refreshIntervalMs) && row.refresh_after <= opts.now) return 'refresh';
  return null;
}

interface MarkStatements {
  next: Database.Statement;
  first: Database.Statement;
  x: Database.Statement;
  drop: Database.Statement;
  mark: Database.Statement;
  uncertain: Database.Statement;
  insertX: Database.Statement;
  uncount: Database.Statement;
  suppressed: Database.Statement;
  toRemove: Database.Statement;
}

const marking = new WeakMap<Database.Database, MarkStatements>();

function markStatements(db: Database.Database): MarkStatements {
  let s = marking.get(db);
  if (s === undefined) {
    s = {
      first: db.prepare('SELECT hash, op, enqueued_at FROM outbox WHERE downstream_id = ? ORDER BY enqueued_at, hash LIMIT ?'),
      next: db.prepare('SELECT hash, op, enqueued_at FROM outbox WHERE downstream_id = ? AND (enqueued_at, hash) > (?, ?) ORDER BY enqueued_at, hash LIMIT ?'),
      x: db.prepare('SELECT confirmed FROM x_members WHERE downstream_id = ? AND hash = ?').pluck(),
      drop: db.prepare('DELETE FROM outbox WHERE downstream_id = ? AND hash = ?'),
      mark: db.prepare('UPDATE outbox SET claim_token = ? WHERE downstream_id = ? AND hash = ?'),
      uncertain: db.prepare('UPDATE x_members SET confirmed = 0 WHERE downstream_id = ? AND hash = ?'),
      insertX: db.prepare('INSERT INTO x_members (downstream_id, hash, confirmed) VALUES (?, ?, 0)'),
      uncount: db.prepare('UPDATE downstreams SET members = members - ? WHERE id = ?'),
      suppressed: db.prepare('SELECT 1 FROM suppressions WHERE identity_type = ? AND hash = ?').pluck(),
      toRemove: db.prepare("UPDATE outbox SET op = 'remove' WHERE downstream_id = ? AND hash = ?"),
    };
    marking.set(db, s);
  }
  return s;
}

/** Rows read per look at the outbox while marking; the deadline is checked after each row. */
const READ_AHEAD = 256;

/**
 * Marks the oldest pending changes after `after` with the lease token until the batch holds `max`
 * or `deadline` passes, drops those that cannot change X (an add of a hash X confirmed, a remove of
 * a hash X surely lacks), and marks the rest uncertain in the X ledger before they go out: until
 * X's answer is settled, Tailor does not know whether they landed. Each row is looked up by its
 * key, so a slice costs what it marks, not what the outbox holds. Returns where it stopped, or
 * null when the batch is complete (full, or nothing more pending).
 *
 * A dropped remove of a suppressed hash may be the last thing an opt-out or an erasure waited for
 * (X never got the hash): the 24-hour clock is settled in this same transaction.
 */
function markChanges(
  db: Database.Database,
  downstreamId: number,
  type: string,
  token: string,
  max: number,
  after: ClaimCursor | null,
  rows: ClaimedRow[],
  deadline: SliceEnd,
  now: number,
): ClaimCursor | null {
  const s = markStatements(db);
  let cursor = after;
  let uncertain = 0;
  let droppedSuppressed = false;
  try {
    while (rows.length < max) {
      const limit = Math.min(READ_AHEAD, max - rows.length);
      const batch = (cursor === null ? s.first.all(downstreamId, limit) : s.next.all(downstreamId, cursor.enqueuedAt, cursor.hash, limit)) as ClaimedRow[];
      for (const r of batch) {
        cursor = { enqueuedAt: r.enqueued_at, hash: r.hash };
        // The last guard of the suppression list: an add of a suppressed hash (an ingest that raced
        // the suppression, a resync) becomes a remove, dropped below when X surely lacks the hash.
        if (r.op === 'add' && s.suppressed.get(type, r.hash) !== undefined) {
          s.toRemove.run(downstreamId, r.hash);
          r.op = 'remove';
        }
        const confirmed = s.x.get(downstreamId, r.hash) as number | undefined;
        if (r.op === 'add' ? confirmed === 1 : confirmed === undefined) {
          s.drop.run(downstreamId, r.hash); // a no-op against what X holds
          if (r.op === 'remove' && !droppedSuppressed) droppedSuppressed = s.suppressed.get(type, r.hash) !== undefined;
        } else {
          s.mark.run(token, downstreamId, r.hash);
          if (r.op === 'remove' && confirmed === 1) {
            s.uncertain.run(downstreamId, r.hash);
            uncertain += 1;
          } else if (r.op === 'add' && confirmed === undefined) s.insertX.run(downstreamId, r.hash);
          rows.push(r);
          if (rows.length >= max) return null;
        }
        if (deadline()) return cursor;
      }
      if (batch.length < limit) return null;
    }
    return null;
  } finally {
    if (uncertain > 0) s.uncount.run(uncertain, downstreamId);
    if (droppedSuppressed) settlePrivacy(db, now, 'worker');
  }
}

/**
 * The renewal step (../renewals.ts): the hashes past the renewal age after the pass's cursor, in
 * hash order, that are still held and have no pending change (a pending remove must not be undone
 * by a renewal; a pending add sends it anyway), nor a suppression. They are not marked uncertain:
 * present before, present after, whatever X answers or whether it answers at all (an unsettled
 * renewal stays after the cursor and goes again). The step is recorded even when it finds nothing,
 * so a hash it must skip costs one step per flush interval, not a busy loop.
 */
function claimRenewals(db: Database.Database, row: LeasedRow, opts: ClaimOptions, room: number): string[] {
  if (room <= 0) return []; // a full batch: a later claim
  if (resyncRunning(row)) return claimResync(db, row, room);
  // Too soon (renewals.ts says why they are spread): a later claim.
  if (!renewalStepAllowed(row.renew_claimed_at, opts)) return [];
  const dueBy = opts.now - opts.renewAfterMs;
  const scan = db.prepare(
    `SELECT x.hash, x.confirmed_at, CASE WHEN x.confirmed_at > @dueBy THEN 0
         WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = x.downstream_id AND o.hash = x.hash) THEN 0
         WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.identity_type = @type AND s.hash = x.hash) THEN 0
         WHEN EXISTS (SELECT 1 FROM hash_holders m WHERE m.audience_id = @audience AND m.identity_type = @type AND m.hash = x.hash) THEN 1 ELSE 0 END AS eligible
     FROM x_members x WHERE x.downstream_id = @id AND x.hash > @cursor AND x.confirmed = 1 ORDER BY x.hash LIMIT @limit`,
  );
  const outcome = runRenewalSteps(
    renewalSteps(row, opts.now, dueBy, room),
    (cursor) =>
      scan.all({
        id: row.id,
        cursor: cursor ?? Buffer.alloc(0),
        dueBy,
        type: row.identity_type,
        audience: row.audience_id,
        limit: RENEWAL_SCAN_ROWS,
      }) as ScannedRow[],
  );
  if (outcome === null) return [];
  const { state } = outcome;
  db.prepare(
    `UPDATE downstreams SET renew_bound = ?, renew_pass_min = ?, renew_cursor = ?${outcome.recorded ? ', renew_claimed_at = ?' : ''} WHERE id = ?`,
  ).run(state.renew_bound, state.renew_pass_min, state.renew_cursor, ...(outcome.recorded ? [opts.now] : []), row.id);
  return outcome.taken.map(hashHex);
}

/**
 * The resync's next hashes (cadence.ts): confirmed before it was asked for, after its cursor in
 * hash order (the X ledger's primary key), still held, not suppressed, with no pending change.
 * None left: it ends.
 */
function claimResync(db: Database.Database, row: LeasedRow, room: number): string[] {
  const hashes = db
    .prepare(
      `SELECT x.hash FROM x_members x
       WHERE x.downstream_id = ? AND x.hash > ? AND x.confirmed = 1 AND x.confirmed_at < ?
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = x.downstream_id AND o.hash = x.hash)
         AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.identity_type = ? AND s.hash = x.hash)
         AND EXISTS (SELECT 1 FROM hash_holders m WHERE m.audience_id = ? AND m.identity_type = ? AND m.hash = x.hash)
       ORDER BY x.hash LIMIT ?`,
    )
    .pluck()
    .all(row.id, row.resync_cursor ?? Buffer.alloc(0), row.resync_before, row.identity_type, row.audience_id, row.identity_type, room)
    .map((hash) => hashHex(hash as Buffer));
  if (hashes.length === 0) db.prepare('UPDATE downstreams SET resync_before = NULL, resync_cursor = NULL WHERE id = ?').run(row.id);
  return hashes;
}

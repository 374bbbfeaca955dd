import { randomUUID } from 'node:crypto';
import type { IdentityType } from '../../core/terms.ts';
import type { Claim, ClaimOptions, Task } from '../port.ts';
import { hashHex } from '../binary.ts';
import { cadenceOpen, nextSendAfter, optOutWaitingSql, resyncRunning } from '../cadence.ts';
import { RENEWAL_SCAN_ROWS, renewalStepAllowed, renewalSteps, runRenewalStepsAsync, type RenewalState, type ScannedRow } from '../renewals.ts';
import { WORKED_STATES } from '../states.ts';
import { waitingForMemberSql } from '../creation.ts';
import { downstreamNameSql } from '../name-sql.ts';
import type { Db, Sql } from './db.ts';
import { settlePrivacy } from './privacy.ts';
import { PENDING_SQL } from './due-scan.ts';
import { toConfiguration, toDownstream, type ConfigurationRow, type DownstreamRow } from '../rows.ts';

/**
 * The pick: the downstream audience least recently claimed that has work, locked FOR UPDATE SKIP
 * LOCKED, in one statement. Two workers (of any processes) claiming at once never pick the same
 * row: the second skips the row the first has locked and takes the next. A lease is data, not a
 * lock: a row whose lease has not expired is not a candidate; one whose lease expired (its worker
 * died or hung) is, and its old holder's settle will no longer match the token.
 *
 * The task is computed in SQL, in the worker's order (delete, create, rename, send, refresh), so
 * that a row is only locked when it has work. `FOR UPDATE OF d` locks the downstream row alone:
 * configurations and audiences are read, never locked, so workers of one account do not collide.
 *
 * No downstream row costs an index seek of its own (due-scan.ts): pending changes and their
 * oldest enqueue time come from one walk of the outbox index (`pending`), renewals from the
 * downstream row's own bound of its oldest confirmation and its running pass (../renewals.ts).
 * A send is due when the oldest change has waited the flush interval, or when a full batch waits:
 * that is counted in `full_batches`, over the downstream audiences with pending changes not yet
 * due, least recently claimed first, each up to its full batch and at most $8 outbox entries in
 * all (twice the largest batch), so one pick never counts every pending row. A full batch is found
 * at once unless the downstream audiences before it in that order hold more than a full batch
 * between them; then it is due by its flush interval (and the one that came first, once claimed,
 * goes to the back of the order).
 */
const ELIGIBLE = `c.state = 'active'
    AND (d.state IN ${WORKED_STATES} OR d.state = 'detached')
    AND d.next_attempt_at <= $2
    AND (d.lease_token IS NULL OR d.lease_expires_at < $2)
    AND d.id <> ALL($1::bigint[])
    -- No X audience yet and no member to send: it is created with its first (creation.ts).
    AND NOT ${waitingForMemberSql('d')}`;

/** A downstream row's task, or null (d: downstreams, c: configurations, a: audiences, p: pending). */
const TASK = `CASE
      WHEN d.state = 'deleting' THEN 'delete'
      -- A detached X audience is no longer written, but a suppressed hash must leave it
      -- (docs/privacy.md): the only changes it ever gets are those removes, sent at once.
      WHEN d.state = 'detached' THEN CASE WHEN d.x_audience_id IS NOT NULL AND p.downstream_id IS NOT NULL THEN 'send' END
      WHEN a.name IS NULL THEN NULL
      -- Only with a pending add: ELIGIBLE keeps out one that waits for its first member.
      WHEN d.x_audience_id IS NULL THEN 'create'
      WHEN d.x_name IS DISTINCT FROM ${downstreamNameSql('a.name', 'd.identity_type', 'd.name_suffix')} THEN 'rename'
      -- A cadence holds changes until its window, but for an opt-out's (cadence.ts).
      WHEN p.downstream_id IS NOT NULL AND (d.send_interval_ms IS NULL OR d.next_send_at <= $2::bigint OR ${optOutWaitingSql('d')})
        AND (p.oldest <= $2::bigint - $3::bigint OR d.id IN (SELECT id FROM full_batches)) THEN 'send'
      -- A resync asked for (cadence.ts): sent at once, whatever the cadence.
      WHEN d.resync_before IS NOT NULL THEN 'send'
      -- Renewals ($7: the renewal age in ms, or null for none), one step per flush interval, while
      -- a pass runs or once its bound of the oldest confirmation is past the age (../renewals.ts).
      WHEN $7::bigint IS NOT NULL AND d.renew_claimed_at <= $2::bigint - $3::bigint
        AND (d.send_interval_ms IS NULL OR d.next_send_at <= $2::bigint)
        AND (d.renew_pass_min IS NOT NULL OR d.renew_bound <= $2::bigint - $7::bigint) THEN 'send'
      WHEN (d.refreshed_at IS NULL OR d.refreshed_at <= $2::bigint - $5::bigint) AND d.refresh_after <= $2::bigint THEN 'refresh'
    END`;

const JOINED = `downstreams d
  JOIN configurations c ON c.id = d.configuration_id
  LEFT JOIN audiences a ON a.id = d.audience_id AND d.state <> 'deleting'
  LEFT JOIN pending p ON p.downstream_id = d.id`;

const PICK = `
  WITH RECURSIVE ${PENDING_SQL},
  full_batches AS MATERIALIZED (
    SELECT f.id FROM (
      SELECT f.id, f.full_batch FROM (
        SELECT d.id, COALESCE(($6::jsonb ->> d.identity_type)::bigint, $4::bigint) AS full_batch
        FROM pending p JOIN downstreams d ON d.id = p.downstream_id JOIN configurations c ON c.id = d.configuration_id
        WHERE p.oldest > $2::bigint - $3::bigint AND d.state IN ${WORKED_STATES} AND d.x_audience_id IS NOT NULL AND ${ELIGIBLE}
          AND (d.send_interval_ms IS NULL OR d.next_send_at <= $2::bigint)
        ORDER BY d.last_claimed_at, d.id
      ) f
      CROSS JOIN LATERAL (SELECT 1 FROM outbox o WHERE o.downstream_id = f.id LIMIT f.full_batch) o
      LIMIT $8
    ) f GROUP BY f.id HAVING count(*) >= min(f.full_batch)
  ),
  -- Every downstream row read once, joined by hash: those with a task.
  candidates AS MATERIALIZED (SELECT d.id, d.last_claimed_at FROM ${JOINED} WHERE ${ELIGIBLE} AND (${TASK}) IS NOT NULL)
  -- The task again for the candidates alone, on the row as locked: a row another worker changed
  -- and committed meanwhile is looked at afresh (READ COMMITTED's recheck of the locked row).
  SELECT d.id, t.task
  FROM candidates k JOIN ${JOINED} ON d.id = k.id
  CROSS JOIN LATERAL (SELECT ${TASK} AS task) t
  WHERE ${ELIGIBLE} AND t.task IS NOT NULL
  ORDER BY k.last_claimed_at, k.id
  LIMIT 1
  FOR UPDATE OF d SKIP LOCKED`;

/**
 * The lease: owner, token, expiry; last_claimed_at moves the row to the back of the queue. Its
 * configuration comes with it (read, not locked), as JSON: one round trip fewer per claim.
 */
const LEASE = `
  UPDATE downstreams d SET lease_owner = $2, lease_token = $3, lease_expires_at = $4, last_claimed_at = $5
  WHERE d.id = $1
  RETURNING d.*, (SELECT a.name FROM audiences a WHERE a.id = d.audience_id AND d.state <> 'deleting') AS audience_name,
    (SELECT row_to_json(c) FROM configurations c WHERE c.id = d.configuration_id) AS configuration_row`;

/**
 * The batch: the oldest pending changes of the leased downstream marked with the token. Rows
 * another transaction holds (an ingest updating them right now) are skipped, not waited for; they
 * go in a later batch. Each row says what the X ledger knows of its hash: confirmed present,
 * present but uncertain, or absent.
 */
const MARK_CHANGES = `
  WITH picked AS (
    SELECT hash FROM outbox WHERE downstream_id = $1 ORDER BY enqueued_at LIMIT $3 FOR UPDATE SKIP LOCKED
  )
  UPDATE outbox o SET claim_token = $2 FROM picked
  WHERE o.downstream_id = $1 AND o.hash = picked.hash
  RETURNING o.hash, o.op, o.enqueued_at,
    (SELECT x.confirmed FROM x_members x WHERE x.downstream_id = o.downstream_id AND x.hash = o.hash) AS on_x,
    EXISTS (SELECT 1 FROM suppressions s WHERE s.identity_type = $4 AND s.hash = o.hash) AS suppressed`;

/**
 * The last guard of the suppression list: an add of a suppressed hash (an ingest that raced the
 * suppression, a resync) becomes a remove, dropped as a no-op when X surely lacks the hash.
 */
const SUPPRESSED_TO_REMOVE = "UPDATE outbox SET op = 'remove' WHERE downstream_id = $1 AND claim_token = $2 AND hash = ANY($3::bytea[])";

/**
 * Changes that cannot change X (an add of a hash X confirmed, a remove of a hash X surely lacks):
 * coalescing leaves such rows behind.
 */
const DROP_NOOPS = 'DELETE FROM outbox WHERE downstream_id = $1 AND claim_token = $2 AND hash = ANY($3::bytea[])';

/**
 * The rest goes out, so until X's answer is settled Tailor does not know whether it landed: the
 * X ledger marks those hashes uncertain before the call (a confirmed hash about to be removed stops
 * counting as a member; a hash about to be added is recorded, unconfirmed). The X ledger of a
 * downstream audience is written only under its lease and row lock.
 */
const MARK_UNCERTAIN_REMOVES = 'UPDATE x_members SET confirmed = false WHERE downstream_id = $1 AND confirmed AND hash = ANY($2::bytea[])';
const MARK_UNCERTAIN_ADDS =
  'INSERT INTO x_members (downstream_id, hash, confirmed) SELECT $1, unnest($2::bytea[]), false ON CONFLICT (downstream_id, hash) DO NOTHING';

/**
 * A renewal step's read (../renewals.ts): the X ledger after the pass's cursor in hash order, each
 * row eligible when past the renewal age ($3), still held (hash_holders) and with no pending
 * change (a pending remove must not be undone; a pending add sends it anyway) nor a suppression.
 * Read, not locked: a change an ingest is writing right now lands in the outbox and is sent after
 * this batch (one lease per downstream audience), so X sees the renewal, then the change.
 */
const SCAN_RENEWALS = `
  SELECT x.hash, x.confirmed_at, CASE WHEN x.confirmed_at > $3::bigint THEN false
      WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = $1 AND o.hash = x.hash) THEN false
      WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.identity_type = $5 AND s.hash = x.hash) THEN false
      ELSE EXISTS (SELECT 1 FROM hash_holders h WHERE h.audience_id = $4 AND h.identity_type = $5 AND h.hash = x.hash) END AS eligible
  FROM x_members x
  WHERE x.downstream_id = $1 AND x.hash > $2::bytea AND x.confirmed
  ORDER BY x.hash LIMIT $6`;

type LeasedRow = DownstreamRow &
  RenewalState & {
    audience_name: string | null;
    last_claimed_at: number;
    renew_claimed_at: number;
    resync_cursor: Buffer | null;
    configuration_row: ConfigurationRow;
  };

const UNLEASE = 'UPDATE downstreams SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = $1';

const OPT_OUT_WAITING = `SELECT ${optOutWaitingSql('d')} AS w FROM downstreams d WHERE d.id = $1`;

/** After this many leased-but-empty sends in one call, give up for now (the next poll continues). */
const MAX_EMPTY_PICKS = 20;

export async function claim(db: Db, opts: ClaimOptions): Promise<Claim | null> {
  return db.tx(async (c) => {
    // A dropped remove of a suppressed hash may be the last thing an opt-out or an erasure waited
    // for (X never got the hash): the 24-hour clock is settled at the end of this transaction.
    const dropped = { suppressed: false };
    const claimed = await claimIn(c, opts, dropped);
    if (dropped.suppressed) await settlePrivacy(c, opts.now, 'worker');
    return claimed;
  });
}

async function claimIn(c: Sql, opts: ClaimOptions, dropped: { suppressed: boolean }): Promise<Claim | null> {
  const skipped: number[] = [];
  // The most outbox entries one pick counts looking for full batches: twice the largest batch.
  const countBudget = 2 * Math.max(opts.fullBatch, ...Object.values(opts.maxChangesByType ?? {}));
  while (skipped.length < MAX_EMPTY_PICKS) {
    const pick = await c.query<{ id: number; task: Task }>(PICK, [
      skipped,
      opts.now,
      opts.flushIntervalMs,
      opts.fullBatch,
      opts.refreshIntervalMs,
      JSON.stringify(opts.maxChangesByType ?? {}),
      opts.renewAfterMs ?? null,
      countBudget,
    ]);
    const picked = pick.rows[0];
    if (!picked) return null;
    const token = randomUUID();
    const leased = await c.query<LeasedRow>(LEASE, [picked.id, opts.owner, token, opts.now + opts.leaseMs, opts.now]);
    const row = leased.rows[0];
    if (!row) return null;
    const max = opts.maxChangesByType?.[row.identity_type as IdentityType] ?? opts.maxChanges;
    // A detached X audience only ever gets removes of suppressed hashes: no renewals, no resync,
    // and no cadence holds them (docs/privacy.md).
    const detached = row.state === 'detached';
    // Under a cadence whose window is closed, a send is a resync's alone: no changes go early.
    const waiting = cadenceOpen(row, opts.now) ? false : (await c.query<{ w: boolean }>(OPT_OUT_WAITING, [row.id])).rows[0]!.w;
    const open = detached || cadenceOpen(row, opts.now, () => waiting);
    const changes = picked.task === 'send' && open ? await claimChanges(c, picked.id, row.identity_type, token, max, dropped) : [];
    // Renewals wait for the cadence's window like changes; a resync goes at once.
    const renewals = picked.task === 'send' && !detached && (open || resyncRunning(row)) ? await claimRenewals(c, row, opts, max - changes.length) : [];
    const nextSend = picked.task === 'send' && open && !detached ? nextSendAfter(row, opts.now, changes.length, max) : null;
    if (nextSend !== null) await c.query('UPDATE downstreams SET next_send_at = $2 WHERE id = $1', [picked.id, nextSend]);
    if (picked.task === 'send' && changes.length === 0 && renewals.length === 0) {
      // Every pending change was a no-op against the X ledger (or is being rewritten right now).
      await c.query(UNLEASE, [picked.id]);
      skipped.push(picked.id);
      continue;
    }
    return {
      task: picked.task,
      leaseToken: token,
      downstream: toDownstream(row),
      audienceName: row.audience_name,
      configuration: toConfiguration(row.configuration_row),
      changes: changes.map(({ hash, op }) => ({ hash: hashHex(hash), op })),
      renewals,
      createAttemptName: row.create_attempt_name,
      ...(resyncRunning(row) && renewals.length > 0 ? { resyncCursor: renewals[renewals.length - 1]! } : {}),
      // Changes come oldest first: the first one's enqueue time starts the batch's sync latency.
      ...(changes[0] ? { oldestEnqueuedAt: changes[0].enqueued_at } : {}),
    };
  }
  return null;
}

async function claimChanges(
  c: Sql,
  downstreamId: number,
  type: string,
  token: string,
  max: number,
  dropped: { suppressed: boolean },
): Promise<{ hash: Buffer; op: 'add' | 'remove'; enqueued_at: number }[]> {
  const marked = await c.query<{ hash: Buffer; op: 'add' | 'remove'; enqueued_at: number; on_x: boolean | null; suppressed: boolean }>(MARK_CHANGES, [
    downstreamId,
    token,
    max,
    type,
  ]);
  const suppressed = marked.rows.filter((r) => r.op === 'add' && r.suppressed);
  if (suppressed.length > 0) {
    await c.query(SUPPRESSED_TO_REMOVE, [downstreamId, token, suppressed.map((r) => r.hash)]);
    for (const r of suppressed) r.op = 'remove';
  }
  const noop = (r: { op: 'add' | 'remove'; on_x: boolean | null }): boolean => (r.op === 'add' ? r.on_x === true : r.on_x === null);
  const noops = marked.rows.filter(noop).map((r) => r.hash);
  if (marked.rows.some((r) => noop(r) && r.op === 'remove' && r.suppressed)) dropped.suppressed = true;
  if (noops.length > 0) await c.query(DROP_NOOPS, [downstreamId, token, noops]);
  const changes = marked.rows.filter((r) => !noop(r)).sort((a, b) => a.enqueued_at - b.enqueued_at);
  const removes = changes.filter((r) => r.op === 'remove').map((r) => r.hash);
  const adds = changes.filter((r) => r.op === 'add').map((r) => r.hash);
  if (removes.length > 0) {
    const uncertain = (await c.query(MARK_UNCERTAIN_REMOVES, [downstreamId, removes])).rowCount ?? 0;
    if (uncertain > 0) await c.query('UPDATE downstreams SET members = members - $2 WHERE id = $1', [downstreamId, uncertain]);
  }
  if (adds.length > 0) await c.query(MARK_UNCERTAIN_ADDS, [downstreamId, adds]);
  return changes.map((r) => ({ hash: r.hash, op: r.op, enqueued_at: r.enqueued_at }));
}

/**
 * The renewal step, when renewals.ts allows it and the batch has room. Renewals are not marked
 * uncertain: present before, present after, whatever X answers or whether it answers at all (an
 * unsettled renewal stays after the pass's cursor and goes again). The step is recorded even when
 * it finds nothing, so a hash it must skip costs one step per flush interval, not a busy loop.
 */
async function claimRenewals(c: Sql, row: LeasedRow, opts: ClaimOptions, room: number): Promise<string[]> {
  if (room <= 0) return [];
  if (resyncRunning(row)) return claimResync(c, row, room);
  if (!renewalStepAllowed(row.renew_claimed_at, opts)) return [];
  const dueBy = opts.now - opts.renewAfterMs;
  const outcome = await runRenewalStepsAsync(renewalSteps(row, opts.now, dueBy, room), async (cursor) => {
    const r = await c.query<ScannedRow>(SCAN_RENEWALS, [row.id, cursor ?? Buffer.alloc(0), dueBy, row.audience_id, row.identity_type, RENEWAL_SCAN_ROWS]);
    return r.rows;
  });
  if (outcome === null) return [];
  const { state } = outcome;
  await c.query(
    `UPDATE downstreams SET renew_bound = $2, renew_pass_min = $3, renew_cursor = $4,
       renew_claimed_at = CASE WHEN $5::boolean THEN $6::bigint ELSE renew_claimed_at END WHERE id = $1`,
    [row.id, state.renew_bound, state.renew_pass_min, state.renew_cursor, outcome.recorded, opts.now],
  );
  return outcome.taken.map(hashHex);
}

/**
 * The resync's next hashes (cadence.ts): confirmed before it was asked for, after its cursor in
 * hash order (the X ledger's primary key), still held, not suppressed, with no pending change.
 * None left: it ends.
 */
const PICK_RESYNC = `
  SELECT x.hash FROM x_members x
  WHERE x.downstream_id = $1 AND x.hash > $2::bytea AND x.confirmed AND x.confirmed_at < $3::bigint
    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.downstream_id = $1 AND o.hash = x.hash)
    AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.identity_type = $5 AND s.hash = x.hash)
    AND EXISTS (SELECT 1 FROM hash_holders h WHERE h.audience_id = $4 AND h.identity_type = $5 AND h.hash = x.hash)
  ORDER BY x.hash LIMIT $6`;

async function claimResync(c: Sql, row: LeasedRow, room: number): Promise<string[]> {
  const r = await c.query<{ hash: Buffer }>(PICK_RESYNC, [
    row.id,
    row.resync_cursor ?? Buffer.alloc(0),
    row.resync_before,
    row.audience_id,
    row.identity_type,
    room,
  ]);
  if (r.rows.length === 0) await c.query('UPDATE downstreams SET resync_before = NULL, resync_cursor = NULL WHERE id = $1', [row.id]);
  return r.rows.map((x) => hashHex(x.hash));
}

import { RejectedError, SyncError, type OperationError } from '../../core/errors.ts';
import { batchesSent, batchUsers, renewed, syncLatency } from '../../metrics.ts';
import { packUsersPaced } from '../../x/pack.ts';
import type { Delivery } from '../../store/port.ts';
import type { UsersRequest, UsersResult } from '../../x/types.ts';
import type { SyncContext, TaskInput } from '../context.ts';

/**
 * Sends one claimed batch. The claim holds at most one request's worth of changes, so this is
 * normally one `users` call; should packing need more, they go in order and the batch settles
 * only when all have been accepted (re-sending an accepted part is harmless).
 */
export async function sendTask(ctx: SyncContext, input: TaskInput): Promise<void> {
  const { claim } = input;
  const d = claim.downstream;
  // Renewals are adds to X (an Update refreshes the hash's expiry), packed with the batch's own.
  const renewals = claim.renewals.map((hash) => ({ hash, op: 'add' as const }));
  const requests = await packUsersPaced(d.identityType, [...claim.changes, ...renewals]);
  const rejectedHashes: string[] = [];
  for (const request of requests) {
    await input.gate('users');
    try {
      const result = await logged(ctx, d.id, request, () => ctx.x.sendUsers(input.tokens, input.accountId, d.xAudienceId ?? '', request));
      rejectedHashes.push(...hashesOf(request, result.operationErrors));
      batchesSent.inc({ identity_type: d.identityType });
      batchUsers.observe({ identity_type: d.identityType }, request.changes.length);
    } catch (err) {
      if (!(err instanceof RejectedError)) throw err;
      // X refused the request whole (batches are atomic). Drop only what it named, with the
      // reason; everything else stays pending and goes in the next batch.
      const named = hashesOf(request, err.operationErrors);
      const refused = named.length > 0 ? named : request.changes.map((c) => c.hash);
      await ctx.store.settleRejected(d.id, claim.leaseToken, refused, err.message, ctx.now());
      ctx.log.warn({ downstream: d.id, refused: refused.length, code: err.code }, 'X refused changes; they were dropped and counted');
      return;
    }
  }
  const now = ctx.now();
  const settled = await ctx.store.settleSent(
    d.id,
    claim.leaseToken,
    { sent: claim.changes, renewed: claim.renewals, rejectedHashes, ...(claim.resyncCursor === undefined ? {} : { resyncCursor: claim.resyncCursor }) },
    now,
  );
  if (settled && claim.renewals.length > 0) {
    const refused = new Set(rejectedHashes);
    renewed.inc({ identity_type: d.identityType }, claim.renewals.filter((h) => !refused.has(h)).length);
  }
  if (settled && claim.oldestEnqueuedAt !== undefined) syncLatency.observe({ identity_type: d.identityType }, Math.max(0, now - claim.oldestEnqueuedAt) / 1000);
}

/**
 * Makes one `users` call and writes it to the delivery log, answered or not: counts, bytes, X's
 * status and counts, the duration and the error. A log write that fails is only logged: the
 * delivery log never holds up a batch.
 */
async function logged(ctx: SyncContext, downstreamId: number, request: UsersRequest, call: () => Promise<UsersResult>): Promise<UsersResult> {
  const at = ctx.now();
  const started = performance.now();
  const adds = request.changes.filter((c) => c.op === 'add').length;
  const base = { at, adds, removes: request.changes.length - adds, bytes: Buffer.byteLength(request.body) };
  const record = async (d: Pick<Delivery, 'status' | 'successCount' | 'totalCount' | 'error'>): Promise<void> => {
    try {
      await ctx.store.recordDelivery(downstreamId, { ...base, ...d, durationMs: performance.now() - started });
    } catch (err) {
      ctx.log.warn({ err, downstream: downstreamId }, 'could not write the delivery log');
    }
  };
  try {
    const result = await call();
    await record({ status: result.status ?? 200, successCount: result.successCount, totalCount: result.totalCount, error: null });
    return result;
  } catch (err) {
    await record({
      status: err instanceof SyncError ? (err.status ?? null) : null,
      successCount: null,
      totalCount: null,
      error: err instanceof Error ? err.message : String(err),
    });
    throw err;
  }
}

/** The hashes of the operations X named in `operation_errors` (positions in the request body). */
function hashesOf(request: UsersRequest, errors: OperationError[]): string[] {
  if (errors.length === 0) return [];
  const ops = JSON.parse(request.body) as { params: { users: unknown[] } }[];
  const bad = new Set(errors.map((e) => e.operationIndex));
  const hashes: string[] = [];
  let at = 0;
  ops.forEach((op, i) => {
    const n = op.params.users.length;
    if (bad.has(i)) hashes.push(...request.changes.slice(at, at + n).map((c) => c.hash));
    at += n;
  });
  return hashes;
}

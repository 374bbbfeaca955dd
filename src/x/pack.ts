/**
 * Packing changes into X `users` requests. Pure: no I/O, no clock (packUsersPaced only looks at
 * the clock to give the event loop back).
 *
 * Body: a JSON array of at most two operations, `Update` (adds) and `Delete` (removes), in the
 * order their first change arrives; one user object `{"<key>":["<hash>"]}` per change.
 *
 * Why requests are filled this way (and why it gives the fewest requests): a body with `n` operations
 * and users u1…uk weighs exactly `1 + n·OP + Σ(size(ui) + 1)` bytes, where OP is the size of an
 * empty operation (the `,` between operations and between users is what the `+ 1`s pay for). All
 * hashes of one identity type are SHA-256 hex, so every user weighs the same and only the number
 * of operations per request matters. Changes are taken adds first, then removes, so at most one
 * request in a run holds both operations; the test in test/x/pack.test.ts checks the count against
 * the exact lower bound.
 */
import { pacer, type Pace } from '../core/pace.ts';
import type { IdentityType } from '../core/terms.ts';
import { RejectedError } from '../core/errors.ts';
import { USERS_MAX_BODY_BYTES, USERS_MAX_OPERATIONS } from './facts.ts';
import type { UserChange, UsersRequest } from './types.ts';

export interface PackLimits {
  maxBodyBytes?: number;
  maxOperations?: number;
}

type OperationType = 'Update' | 'Delete';

const OP_TYPE: Record<UserChange['op'], OperationType> = { add: 'Update', remove: 'Delete' };

function opOpen(type: OperationType): string {
  return `{"operation_type":"${type}","params":{"users":[`;
}
const OP_CLOSE = ']}}';

/** Bytes of an operation holding no users, e.g. `{"operation_type":"Update","params":{"users":[]}}`. */
export const EMPTY_OPERATION_BYTES: Record<OperationType, number> = {
  Update: Buffer.byteLength(opOpen('Update') + OP_CLOSE),
  Delete: Buffer.byteLength(opOpen('Delete') + OP_CLOSE),
};

/**
 * The most users of one identity type a request can carry, whatever its mix of adds and removes:
 * every user weighs the same (a SHA-256 hex digest under the type's key), and a body holding both
 * operations weighs `[` `]` + both empty operations + their comma + one user and comma per change.
 * E-mail users (78 bytes) fit more per request than device ids (82) or phone numbers (85), so a claim sized by type
 * keeps every request as full as X allows.
 */
export function usersPerRequest(identityType: IdentityType, maxBodyBytes: number = USERS_MAX_BODY_BYTES): number {
  const userBytes = Buffer.byteLength(`{${JSON.stringify(identityType)}:[${JSON.stringify('0'.repeat(64))}]}`) + 1;
  const envelope = 2 + EMPTY_OPERATION_BYTES.Update + EMPTY_OPERATION_BYTES.Delete + 1;
  return Math.floor((maxBodyBytes - envelope) / userBytes);
}

/** One request being filled. */
class Draft {
  /** Operations in body order, each with its users' JSON and changes. */
  readonly ops: { type: OperationType; users: string[]; changes: UserChange[] }[] = [];
  /** The op each hash has in this request: a hash must never be added and removed in one request. */
  readonly seen = new Map<string, UserChange['op']>();
  /** Current body size: `[` + `]`, operations, users, commas. */
  bytes = 2;

  isEmpty(): boolean {
    return this.ops.length === 0;
  }

  /** Whether this change needs an operation the request does not have yet. */
  opens(change: UserChange): boolean {
    const type = OP_TYPE[change.op];
    return !this.ops.some((o) => o.type === type);
  }

  /** Bytes this change would add to the body: its user and comma, or a new operation around it. */
  cost(change: UserChange, userBytes: number): number {
    if (!this.opens(change)) return userBytes + 1;
    return EMPTY_OPERATION_BYTES[OP_TYPE[change.op]] + userBytes + (this.ops.length > 0 ? 1 : 0);
  }

  add(change: UserChange, userJson: string, cost: number): void {
    const type = OP_TYPE[change.op];
    let op = this.ops.find((o) => o.type === type);
    if (!op) {
      op = { type, users: [], changes: [] };
      this.ops.push(op);
    }
    op.users.push(userJson);
    op.changes.push(change);
    this.seen.set(change.hash, change.op);
    this.bytes += cost;
  }

  finish(identityType: IdentityType): UsersRequest {
    const body = `[${this.ops.map((o) => opOpen(o.type) + o.users.join(',') + OP_CLOSE).join(',')}]`;
    return { identityType, changes: this.ops.flatMap((o) => o.changes), body };
  }
}

/**
 * Orders changes so the fewest requests result, without ever putting a hash's later change before
 * its earlier one: a change's round is the number of times its hash switched op before it; rounds
 * go in order, adds before removes within a round. Callers coalesce, so normally all is round 0.
 */
function schedule(changes: readonly UserChange[]): UserChange[] {
  const last = new Map<string, { op: UserChange['op']; round: number }>();
  const rounds: { adds: UserChange[]; removes: UserChange[] }[] = [];
  for (const change of changes) {
    const prev = last.get(change.hash);
    const round = prev === undefined ? 0 : prev.op === change.op ? prev.round : prev.round + 1;
    last.set(change.hash, { op: change.op, round });
    const bucket = (rounds[round] ??= { adds: [], removes: [] });
    (change.op === 'add' ? bucket.adds : bucket.removes).push(change);
  }
  return rounds.flatMap((r) => [...r.adds, ...r.removes]);
}

/**
 * Packs changes of one downstream audience into the fewest `users` requests X accepts. Every change
 * is in exactly one request; a hash's changes keep their order across requests.
 */
export function packUsers(identityType: IdentityType, changes: readonly UserChange[], limits: PackLimits = {}): UsersRequest[] {
  const steps = packSteps(identityType, changes, limits);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same packing, the event loop given back every `pace` asks for it (core/pace.ts): a full
 * batch (tens of thousands of changes) takes tens of milliseconds to pack, on the serving thread,
 * beside the requests it answers (issue 13: no piece of work over ~20 ms).
 */
export async function packUsersPaced(
  identityType: IdentityType,
  changes: readonly UserChange[],
  pace: Pace = pacer(),
  limits: PackLimits = {},
): Promise<UsersRequest[]> {
  const steps = packSteps(identityType, changes, limits);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pace();
  }
}

/** How many changes are packed between two looks at the clock. */
const STEP = 1_024;

/** packUsers, stopping (yield) every STEP changes so that a caller can give the loop back. */
function* packSteps(identityType: IdentityType, changes: readonly UserChange[], limits: PackLimits): Generator<void, UsersRequest[]> {
  const maxBytes = limits.maxBodyBytes ?? USERS_MAX_BODY_BYTES;
  const maxOps = limits.maxOperations ?? USERS_MAX_OPERATIONS;
  const keyPrefix = `{${JSON.stringify(identityType)}:[`;
  const keyBytes = Buffer.byteLength(keyPrefix) + 2; // + `]}`

  const requests: UsersRequest[] = [];
  let draft = new Draft();
  let n = 0;
  for (const change of schedule(changes)) {
    if (++n % STEP === 0) yield;
    const hashJson = JSON.stringify(change.hash);
    const userJson = `${keyPrefix}${hashJson}]}`;
    const userBytes = keyBytes + Buffer.byteLength(hashJson);

    // Should callers ever send one hash both ways, the second half goes to a later request.
    const seenOp = draft.seen.get(change.hash);
    const conflict = seenOp !== undefined && seenOp !== change.op;
    let cost = draft.cost(change, userBytes);
    const tooBig = draft.bytes + cost > maxBytes;
    const tooManyOps = draft.opens(change) && draft.ops.length + 1 > maxOps;
    if (!draft.isEmpty() && (conflict || tooBig || tooManyOps)) {
      requests.push(draft.finish(identityType));
      draft = new Draft();
      cost = draft.cost(change, userBytes);
    }
    if (draft.bytes + cost > maxBytes) {
      throw new RejectedError(`A single user (${userBytes} bytes) does not fit in X's ${maxBytes}-byte request limit; it cannot be sent.`, {
        code: 'USER_TOO_LARGE',
      });
    }
    draft.add(change, userJson, cost);
  }
  if (!draft.isEmpty()) requests.push(draft.finish(identityType));
  return requests;
}

/**
 * The ledger's rule, written once and pure: both stores (store/sqlite/ledger.ts,
 * store/postgres/ledger.ts) read the ledger, call these, and write what they return, each with its
 * own locking and statement batching.
 *
 * 1. A member change states the member's target identities: an add its whole current set, a
 *    remove the empty set (`targetOf`); within one batch the last change of a member wins.
 * 2. The member's target against what it holds gives the ledger rows to insert and delete
 *    (`diffMember`). A member exists while it holds at least one hash.
 * 3. Each hash has holders (the members holding it). Only a change of whether it has any reaches
 *    X: 0 → n queues an add, n → 0 a remove (`holderTransition`). A hash two members share
 *    therefore stays on X until the last of them leaves.
 * 4. A transition is queued for every forwarding downstream audience of the hash's identity type
 *    (`outboxChanges`); the outbox keeps one row per (downstream, hash), so the last op wins.
 */
import type { ChangeOp, IdentityType } from '../core/terms.ts';

export interface Identity {
  type: IdentityType;
  hash: string;
}

/** A member change as the store port has it (`MemberChange`), described here so this file needs core only. */
export interface Change {
  memberKey: string;
  action: 'add' | 'remove';
  identities: readonly Identity[];
}

/** One key per (type, hash): the same digest under two types is two identities. */
export const identityKey = (id: Identity): string => `${id.type}\n${id.hash}`;

/** The identities a member ends with after `change`, each once, in the order given. */
export function targetOf(change: Pick<Change, 'action' | 'identities'>): Identity[] {
  if (change.action !== 'add') return [];
  const seen = new Map<string, Identity>();
  for (const id of change.identities) if (!seen.has(identityKey(id))) seen.set(identityKey(id), { type: id.type, hash: id.hash });
  return [...seen.values()];
}

/** Each member's target after a whole batch: only its last change counts. */
export function lastChangeWins(changes: readonly Change[]): Map<string, Identity[]> {
  const target = new Map<string, Identity[]>();
  for (const change of changes) target.set(change.memberKey, targetOf(change));
  return target;
}

export interface MemberDiff {
  /** Identities the member gains: ledger rows to insert. */
  insert: Identity[];
  /** Identities the member loses: ledger rows to delete. */
  remove: Identity[];
  /** +1 when the member appears (held nothing, now holds something), -1 when it goes, else 0. */
  memberDelta: -1 | 0 | 1;
}

/** A member's ledger rows from `old` to `target`: removes in `old`'s order, inserts in `target`'s. */
export function diffMember(old: readonly Identity[], target: readonly Identity[]): MemberDiff {
  const oldKeys = new Set(old.map(identityKey));
  const targetKeys = new Set(target.map(identityKey));
  const remove = old.filter((id) => !targetKeys.has(identityKey(id)));
  const insert: Identity[] = [];
  for (const id of target) {
    const key = identityKey(id);
    if (oldKeys.has(key)) continue;
    oldKeys.add(key); // a duplicate in `target` is inserted once
    insert.push(id);
  }
  const memberDelta = ((targetKeys.size > 0 ? 1 : 0) - (old.length > 0 ? 1 : 0)) as MemberDiff['memberDelta'];
  return { insert, remove, memberDelta };
}

/**
 * Each hash's net change in holders over a batch of member diffs, in first-seen order. Hashes
 * whose changes cancel out (one member leaves it as another takes it) are left out: their holder
 * count, and so X, stays as it is.
 */
export function holderDeltas(diffs: Iterable<MemberDiff>): Map<string, { id: Identity; delta: number }> {
  const out = new Map<string, { id: Identity; delta: number }>();
  const bump = (id: Identity, by: number): void => {
    const key = identityKey(id);
    const entry = out.get(key);
    if (entry) entry.delta += by;
    else out.set(key, { id, delta: by });
  };
  for (const d of diffs) {
    for (const id of d.remove) bump(id, -1);
    for (const id of d.insert) bump(id, +1);
  }
  for (const [key, entry] of out) if (entry.delta === 0) out.delete(key);
  return out;
}

/**
 * What X must be told when a hash's holder count goes from `before` to `after`: only whether a
 * count is zero matters, so a store may pass exact counts or 0/1 from an EXISTS. Counts are never
 * negative; a store that finds one has a ledger out of step and must not call this.
 */
export function holderTransition(before: number, after: number): ChangeOp | null {
  if (before === 0 && after > 0) return 'add';
  if (before > 0 && after === 0) return 'remove';
  return null;
}

export interface OutboxChange {
  downstreamId: number;
  hash: string;
  op: ChangeOp;
}

/** One outbox change per transition and forwarding downstream audience of its identity type. */
export function outboxChanges(
  transitions: readonly { id: Identity; op: ChangeOp }[],
  forwarding: readonly { id: number; identityType: IdentityType }[],
): OutboxChange[] {
  const out: OutboxChange[] = [];
  for (const t of transitions) {
    for (const d of forwarding) if (d.identityType === t.id.type) out.push({ downstreamId: d.id, hash: t.id.hash, op: t.op });
  }
  return out;
}

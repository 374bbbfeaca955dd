import { describe, expect, it } from 'vitest';
import type { ChangeOp } from '../../src/core/terms.ts';
import {
  diffMember,
  holderDeltas,
  holderTransition,
  identityKey,
  lastChangeWins,
  outboxChanges,
  targetOf,
  type Identity,
  type MemberDiff,
} from '../../src/membership/diff.ts';
import type { MemberChange } from '../../src/store/port.ts';

const A: Identity = { type: 'email', hash: 'a'.repeat(64) };
const B: Identity = { type: 'email', hash: 'b'.repeat(64) };
const H: Identity = { type: 'handle', hash: 'a'.repeat(64) };
const add = (memberKey: string, ...identities: Identity[]): MemberChange => ({ memberKey, action: 'add', identities });
const remove = (memberKey: string, ...identities: Identity[]): MemberChange => ({ memberKey, action: 'remove', identities });

/**
 * The ledger as the rule sees it: members' identities and each hash's holders. `batch` applies a
 * batch the way PostgreSQL does (last change per member, net holder change per hash); applying
 * changes one batch each is SQLite's way. Returns the transitions, as a store would queue them.
 */
function ledger() {
  const members = new Map<string, Identity[]>();
  const holders = new Map<string, number>();
  return {
    members,
    holders,
    batch(changes: MemberChange[]): { op: ChangeOp; id: Identity }[] {
      const diffs: MemberDiff[] = [];
      for (const [member, target] of lastChangeWins(changes)) {
        diffs.push(diffMember(members.get(member) ?? [], target));
        if (target.length > 0) members.set(member, target);
        else members.delete(member);
      }
      const out: { op: ChangeOp; id: Identity }[] = [];
      for (const [key, { id, delta }] of holderDeltas(diffs)) {
        const before = holders.get(key) ?? 0;
        const after = before + delta;
        holders.set(key, after);
        const op = holderTransition(before, after);
        if (op) out.push({ op, id });
      }
      return out;
    },
  };
}

describe('diffMember', () => {
  it('an identity change inserts the new hash and deletes the old one; the member stays', () => {
    expect(diffMember([A], [B])).toEqual({ insert: [B], remove: [A], memberDelta: 0 });
  });

  it('a new member appears, a member left with nothing goes', () => {
    expect(diffMember([], [A, B])).toEqual({ insert: [A, B], remove: [], memberDelta: 1 });
    expect(diffMember([A, B], [])).toEqual({ insert: [], remove: [A, B], memberDelta: -1 });
  });

  it('the same set changes nothing', () => {
    expect(diffMember([A, B], [B, A])).toEqual({ insert: [], remove: [], memberDelta: 0 });
  });

  it('a remove of a member the ledger does not know changes nothing and counts no member', () => {
    expect(diffMember([], targetOf(remove('unknown', A)))).toEqual({ insert: [], remove: [], memberDelta: 0 });
  });

  it('an add with an empty identity set clears a member, and adds no unknown one', () => {
    expect(diffMember([A], targetOf(add('m')))).toEqual({ insert: [], remove: [A], memberDelta: -1 });
    expect(diffMember([], targetOf(add('m')))).toEqual({ insert: [], remove: [], memberDelta: 0 });
  });

  it('a duplicate in the target is inserted once; one digest under two types is two identities', () => {
    expect(diffMember([], [A, A, H])).toEqual({ insert: [A, H], remove: [], memberDelta: 1 });
    expect(diffMember([A], [H])).toEqual({ insert: [H], remove: [A], memberDelta: 0 });
  });
});

describe('targetOf and lastChangeWins', () => {
  it('an add states the whole set (once each, in order), a remove the empty set whatever it names', () => {
    expect(targetOf(add('m', B, A, B))).toEqual([B, A]);
    expect(targetOf(remove('m', A))).toEqual([]);
  });

  it('only each member’s last change of a batch counts', () => {
    const t = lastChangeWins([add('m1', A), add('m2', B), remove('m1'), add('m2', A)]);
    expect([...t]).toEqual([
      ['m1', []],
      ['m2', [A]],
    ]);
  });
});

describe('holderTransition', () => {
  it('0 → n is an add, n → 0 a remove, anything else nothing', () => {
    expect(holderTransition(0, 1)).toBe('add');
    expect(holderTransition(0, 3)).toBe('add');
    expect(holderTransition(1, 0)).toBe('remove');
    expect(holderTransition(2, 0)).toBe('remove');
    expect(holderTransition(1, 2)).toBeNull();
    expect(holderTransition(2, 1)).toBeNull();
    expect(holderTransition(0, 0)).toBeNull();
  });
});

describe('holderDeltas', () => {
  it('sums per hash and leaves out hashes whose changes cancel', () => {
    const deltas = holderDeltas([diffMember([A], [B]), diffMember([B], [A]), diffMember([], [A, H])]);
    expect([...deltas.values()]).toEqual([
      { id: A, delta: 1 },
      { id: H, delta: 1 },
    ]);
    expect(deltas.has(identityKey(B))).toBe(false);
  });
});

describe('the ledger rule, batch after batch (golden cases)', () => {
  it('identity change: the old hash is removed from X, the new one added', () => {
    const l = ledger();
    expect(l.batch([add('m', A)])).toEqual([{ op: 'add', id: A }]);
    expect(l.batch([add('m', B)])).toEqual([
      { op: 'remove', id: A },
      { op: 'add', id: B },
    ]);
  });

  it('a shared hash stays on X until its last holder leaves', () => {
    const l = ledger();
    expect(l.batch([add('m1', A)])).toEqual([{ op: 'add', id: A }]);
    expect(l.batch([add('m2', A)])).toEqual([]);
    expect(l.batch([remove('m1')])).toEqual([]);
    expect(l.holders.get(identityKey(A))).toBe(1);
    expect(l.batch([remove('m2')])).toEqual([{ op: 'remove', id: A }]);
    expect(l.holders.get(identityKey(A))).toBe(0);
  });

  it('one member leaving a hash as another takes it, in one batch, tells X nothing', () => {
    const l = ledger();
    l.batch([add('m1', A)]);
    expect(l.batch([remove('m1'), add('m2', A)])).toEqual([]);
    expect(l.members.get('m2')).toEqual([A]);
  });

  it('flapping add → remove → add: one batch each queues add, remove, add; one batch queues one add', () => {
    const apart = ledger();
    expect([...apart.batch([add('m', A)]), ...apart.batch([remove('m')]), ...apart.batch([add('m', A)])].map((t) => t.op)).toEqual(['add', 'remove', 'add']);
    const together = ledger();
    expect(together.batch([add('m', A), remove('m'), add('m', A)])).toEqual([{ op: 'add', id: A }]);
    expect(ledger().batch([add('m', A), remove('m')])).toEqual([]);
  });

  it('a remove of an unknown member queues nothing', () => {
    const l = ledger();
    l.batch([add('m1', A)]);
    expect(l.batch([remove('ghost', A)])).toEqual([]);
    expect(l.holders.get(identityKey(A))).toBe(1);
  });

  it('an add with no identities takes the member out, and removes what only it held', () => {
    const l = ledger();
    l.batch([add('m1', A, B), add('m2', B)]);
    expect(l.batch([add('m1')])).toEqual([{ op: 'remove', id: A }]);
    expect(l.members.has('m1')).toBe(false);
  });
});

describe('outboxChanges', () => {
  it('one change per transition and forwarding downstream audience of its type', () => {
    const forwarding = [
      { id: 1, identityType: 'email' as const },
      { id: 2, identityType: 'handle' as const },
      { id: 3, identityType: 'email' as const },
    ];
    expect(
      outboxChanges(
        [
          { id: A, op: 'add' },
          { id: H, op: 'remove' },
        ],
        forwarding,
      ),
    ).toEqual([
      { downstreamId: 1, hash: A.hash, op: 'add' },
      { downstreamId: 3, hash: A.hash, op: 'add' },
      { downstreamId: 2, hash: H.hash, op: 'remove' },
    ]);
    expect(outboxChanges([{ id: B, op: 'add' }], [{ id: 2, identityType: 'handle' }])).toEqual([]);
  });
});

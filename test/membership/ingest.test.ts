import { describe, expect, it } from 'vitest';
import { ingest } from '../../src/membership/ingest.ts';
import { MemberKeys } from '../../src/membership/member-key.ts';
import type { ApplyResult, HashedIdentity, LedgerStore, MemberChange } from '../../src/store/port.ts';
import { sha256Hex } from '../../src/identity/index.ts';

const keys = new MemberKeys('0123456789abcdef0123456789abcdef');

/** Records each applyMemberChanges call: ingest must make exactly one per request, or none. */
function recorder(
  queued = 7,
  suppressed: HashedIdentity[] = [],
): LedgerStore & { calls: { audienceId: string; changes: MemberChange[]; now: number; rejections?: Record<string, number> }[] } {
  const calls: { audienceId: string; changes: MemberChange[]; now: number; rejections?: Record<string, number> }[] = [];
  return {
    calls,
    async applyMemberChanges(audienceId, changes, now, rejections): Promise<ApplyResult> {
      calls.push({ audienceId, changes, now, ...(rejections ? { rejections } : {}) });
      return { queued };
    },
    async previewMemberChanges(): Promise<never> {
      throw new Error('ingest without dryRun must never preview');
    },
    async suppressedAmong(ids) {
      return ids.filter((id) => suppressed.some((s) => s.type === id.type && s.hash === id.hash));
    },
  };
}

describe('ingest: the one way member changes reach the ledger', () => {
  it('applies every part in order in one call, with the rejections counted by reason', async () => {
    const store = recorder();
    const result = await ingest(store, keys, {
      audienceId: 'a1',
      parts: [
        {
          action: 'add',
          members: [
            {
              key: { kind: 'user_id', value: 'u1' },
              identities: [
                { kind: 'email', value: 'A@Example.com' },
                { kind: 'email', value: 'not an email' },
              ],
            },
          ],
        },
        {
          action: 'remove',
          members: [
            {
              key: null,
              identities: [
                { kind: 'twitter_handle', value: '@Jack' },
                { kind: 'email', value: 'x', encoding: 'md5' },
              ],
            },
          ],
        },
      ],
      now: 1_000,
      rejections: { unknown_identity_type: 2 },
    });
    expect(store.calls).toHaveLength(1);
    const call = store.calls[0]!;
    expect(call.audienceId).toBe('a1');
    expect(call.now).toBe(1_000);
    expect(call.changes.map((c) => [c.action, c.memberKey.split(':')[0]])).toEqual([
      ['add', 'user'],
      ['remove', 'handle'],
    ]);
    expect(call.rejections).toEqual(result.counts);
    expect(result.counts).toEqual({ unknown_identity_type: 2, invalid_email: 1, unsupported_encoding: 1 });
    expect(result.accepted).toEqual({ add: 1, remove: 1 });
    expect(result.changes).toEqual({ add: 1, remove: 1 });
    expect(result.rejected.map((r) => [r.action, r.index, r.field, r.reason])).toEqual([
      ['add', 0, 'email', 'invalid_email'],
      ['remove', 0, 'email', 'unsupported_encoding'],
    ]);
    expect(result.queued).toBe(7);
  });

  it('counts members and changes apart: a member without a key makes one change per identity', async () => {
    const result = await ingest(recorder(), keys, {
      audienceId: 'a1',
      parts: [
        {
          action: 'add',
          members: [
            {
              key: null,
              identities: [
                { kind: 'email', value: 'a@example.com' },
                { kind: 'twitter_handle', value: 'jack' },
              ],
            },
          ],
          firstIndex: 4,
        },
      ],
      now: 0,
    });
    expect(result.accepted).toEqual({ add: 1, remove: 0 });
    expect(result.changes).toEqual({ add: 2, remove: 0 });
  });

  it('keeps the raw value out of what it returns', async () => {
    const result = await ingest(recorder(), keys, {
      audienceId: 'a1',
      parts: [
        { action: 'add', members: [{ key: { kind: 'user_id', value: 'secret-user' }, identities: [{ kind: 'email', value: 'bad@@example' }] }], firstIndex: 3 },
      ],
      now: 0,
    });
    expect(JSON.stringify(result)).not.toContain('secret-user');
    expect(JSON.stringify(result)).not.toContain('bad@@example');
    expect(result.rejected[0]!.index).toBe(3);
  });

  it('makes no transaction when there is nothing to write', async () => {
    const store = recorder();
    const result = await ingest(store, keys, {
      audienceId: 'a1',
      parts: [
        { action: 'add', members: [] },
        { action: 'remove', members: [{ key: null, identities: [] }] },
      ],
      now: 0,
    });
    expect(store.calls).toHaveLength(0);
    expect(result).toEqual({ accepted: { add: 0, remove: 0 }, changes: { add: 0, remove: 0 }, rejected: [], counts: {}, queued: 0 });
  });

  it('takes suppressed identities out of adds: accepted, counted `suppressed`, never in the ledger', async () => {
    const email = sha256Hex('jane@example.com');
    const store = recorder(0, [{ type: 'email', hash: email }]);
    const result = await ingest(store, keys, {
      audienceId: 'a1',
      parts: [
        {
          action: 'add',
          members: [
            {
              key: { kind: 'user_id', value: 'u1' },
              identities: [
                { kind: 'email', value: 'Jane@example.com' },
                { kind: 'twitter_handle', value: '@jane' },
              ],
            },
          ],
        },
        { action: 'add', members: [{ key: null, identities: [{ kind: 'email', value: 'jane@example.com' }] }], firstIndex: 1 },
        { action: 'remove', members: [{ key: null, identities: [{ kind: 'email', value: 'jane@example.com' }] }] },
      ],
      now: 1,
    });
    expect(result.accepted).toEqual({ add: 2, remove: 1 });
    expect(result.counts).toEqual({ suppressed: 2 });
    expect(result.rejected.map((r) => [r.index, r.field, r.reason, r.action])).toEqual([
      [0, 'email', 'suppressed', 'add'],
      [1, 'email', 'suppressed', 'add'],
    ]);
    const changes = store.calls[0]!.changes;
    // The keyed member keeps its handle only; the identity-keyed add is no change; the remove stays.
    expect(changes.map((c) => [c.action, c.identities.map((i) => i.type)])).toEqual([
      ['add', ['handle']],
      ['remove', []],
    ]);
    expect(store.calls[0]!.rejections).toEqual({ suppressed: 2 });
  });
});

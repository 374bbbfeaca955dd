/**
 * Applies validated operations in order: an Update puts each hash into the audience with the
 * operation's window (refreshing the window of a hash already held); a Delete removes each hash
 * a user object lists, under its key. Members are kept per key, so removal matches exactly the
 * hashes sent (docs/reference/x-ads-api.md 3.3).
 */
import type { Audience } from '../audiences/audience.ts';
import type { IdentifierKey, WindowTable } from '../audiences/membership.ts';
import type { ValidOperation } from './validate-operations.ts';

export function applyOperations(audience: Audience, operations: readonly ValidOperation[], windows: WindowTable): void {
  for (const op of operations) {
    const windowId = op.type === 'Update' ? windows.intern(op.effectiveAt, op.expiresAt) : -1;
    for (const user of op.users) {
      for (const [key, values] of Object.entries(user) as Array<[IdentifierKey, string[]]>) {
        const held = audience.members.get(key);
        if (held === undefined) continue;
        for (const value of values) {
          if (op.type === 'Update') held.set(value, windowId);
          else held.delete(value);
        }
      }
    }
  }
}

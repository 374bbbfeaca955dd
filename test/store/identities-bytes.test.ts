/**
 * A member's identities as one stored value (src/store/binary.ts, migration 0019): one spelling per
 * set (each identity once, ordered by type name then hash, as 0019's SQL orders them), read back
 * exactly, and a match only at an identity's boundary.
 */
import { describe, expect, it } from 'vitest';
import { IDENTITY_TYPES } from '../../src/core/terms.ts';
import { holdsIdentity, identitiesBytes, identitiesOf, identityBytes } from '../../src/store/binary.ts';
import { h } from './helpers.ts';

describe('stored identities (binary.ts)', () => {
  it('one spelling per set: order and duplicates do not matter', () => {
    const a = [
      { type: 'handle' as const, hash: h(2) },
      { type: 'email' as const, hash: h(9) },
      { type: 'email' as const, hash: h(1) },
      { type: 'device_id' as const, hash: h(3) },
    ];
    const b = [a[3]!, a[1]!, a[2]!, a[0]!, a[1]!];
    expect(identitiesBytes(a).equals(identitiesBytes(b))).toBe(true);
    expect(identitiesBytes(a).byteLength).toBe(4 * 33);
    // Type name, then hash: device_id < email < handle, as text sorts (0019's ORDER BY identity_type, hash).
    expect(identitiesOf(identitiesBytes(a))).toEqual([a[3], a[2], a[1], a[0]]);
    expect(identitiesOf(identitiesBytes([]))).toEqual([]);
  });

  it('every identity type round-trips, its byte its place in IDENTITY_TYPES from 1', () => {
    for (const [i, type] of IDENTITY_TYPES.entries()) {
      const bytes = identityBytes({ type, hash: h(i + 1) });
      expect(bytes[0]).toBe(i + 1);
      expect(identitiesOf(bytes)).toEqual([{ type, hash: h(i + 1) }]);
    }
    expect(() => identitiesOf(Buffer.alloc(32))).toThrow(TypeError);
    expect(() => identitiesOf(Buffer.alloc(33))).toThrow(TypeError); // type byte 0: none
    expect(() => identityBytes({ type: 'fax' as never, hash: h(1) })).toThrow(TypeError);
  });

  it('a match is a whole identity at its boundary', () => {
    const stored = identitiesBytes([
      { type: 'email', hash: h(1) },
      { type: 'handle', hash: h(2) },
    ]);
    expect(holdsIdentity(stored, { type: 'handle', hash: h(2) })).toBe(true);
    expect(holdsIdentity(stored, { type: 'email', hash: h(2) })).toBe(false); // same hash, other type
    // X then Y: bytes 20..52 are X's last 12 bytes, Y's type byte and Y's first 19 bytes, which
    // spell the e-mail identity F (X's byte 19 is an e-mail's type byte). There, but not at a boundary.
    const x = `${'00'.repeat(19)}01${'ab'.repeat(12)}`;
    const y = `${'cd'.repeat(20)}${'00'.repeat(12)}`;
    const f = `${'ab'.repeat(12)}01${'cd'.repeat(19)}`;
    const xy = identitiesBytes([
      { type: 'email', hash: x },
      { type: 'email', hash: y },
    ]);
    expect(xy.includes(identityBytes({ type: 'email', hash: f }))).toBe(true);
    expect(holdsIdentity(xy, { type: 'email', hash: f })).toBe(false);
    expect(holdsIdentity(xy, { type: 'email', hash: y })).toBe(true);
  });
});

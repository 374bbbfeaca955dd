/**
 * The on-disk form of hashes and member keys (migration 0009, both dialects). The store port keeps
 * 64-hex strings; the adapters convert here, at their boundary, so nothing above `src/store/`
 * sees bytes.
 *
 *   hash        32 bytes: the SHA-256 digest the hex spells (lower-case hex at the port)
 *   member key  33 bytes: one byte for the key's kind (its prefix), then its 32-byte digest
 *               (src/membership/member-key.ts: every key Tailor builds is `<kind>:<64 hex>`);
 *               any other string the port is given: a 0 byte, then the string as UTF-8
 *
 *   identities  a member's identities in one value (migration 0019, the `members` row): 33 bytes
 *               each, the type's byte (IDENTITY_TYPE_BYTE) then the hash, ordered by type name
 *               and hash, so a member's set has one spelling
 *
 * Half the bytes of hex, and compared as bytes (memcmp) instead of collated text.
 */
import { IDENTITY_TYPES, type IdentityType } from '../core/terms.ts';

/** Member key prefixes and their byte, in the order 0009's SQL uses (both dialects spell this table). */
export const MEMBER_KEY_KINDS = ['user', 'mpid', 'email', 'handle', 'device_id'] as const;

const HEX64 = /^[0-9a-f]{64}$/;
const OTHER = Buffer.from([0]);
const KIND_BYTE = new Map<string, number>(MEMBER_KEY_KINDS.map((k, i) => [k, i + 1]));

export function hashBytes(hex: string): Buffer {
  if (!HEX64.test(hex)) throw new TypeError('a hash is 64 lower-case hex characters');
  return Buffer.from(hex, 'hex');
}

/** A hash from outside (X's answer): null when it is not one, as no row can hold it. */
export const hashBytesOrNull = (hex: string): Buffer | null => (HEX64.test(hex) ? Buffer.from(hex, 'hex') : null);

export const hashHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export function memberKeyBytes(key: string): Buffer {
  const colon = key.indexOf(':');
  const kind = colon < 0 ? undefined : KIND_BYTE.get(key.slice(0, colon));
  if (kind !== undefined && key.length === colon + 65 && HEX64.test(key.slice(colon + 1))) {
    const out = Buffer.allocUnsafe(33);
    out[0] = kind;
    out.write(key.slice(colon + 1), 1, 'hex');
    return out;
  }
  return Buffer.concat([OTHER, Buffer.from(key, 'utf8')]);
}

export function memberKeyText(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] === 0) return b.subarray(1).toString('utf8');
  const kind = MEMBER_KEY_KINDS[b[0]! - 1];
  if (kind === undefined || b.byteLength !== 33) throw new TypeError('not a stored member key');
  return `${kind}:${b.subarray(1).toString('hex')}`;
}

/** An identity type's byte in a member's identities: its place in IDENTITY_TYPES, from 1 (0019's SQL spells this table). */
export const IDENTITY_TYPE_BYTE = new Map<IdentityType, number>(IDENTITY_TYPES.map((t, i) => [t, i + 1]));
const IDENTITY_BYTES = 33;

/** One identity as it is stored within a member's identities: the type's byte, then the hash. */
export function identityBytes(id: { type: IdentityType; hash: string }): Buffer {
  const type = IDENTITY_TYPE_BYTE.get(id.type);
  if (type === undefined) throw new TypeError(`not an identity type: ${id.type}`);
  const out = Buffer.allocUnsafe(IDENTITY_BYTES);
  out[0] = type;
  hashBytes(id.hash).copy(out, 1);
  return out;
}

const byTypeAndHash = (a: { type: string; hash: string }, b: { type: string; hash: string }): number =>
  a.type < b.type ? -1 : a.type > b.type ? 1 : a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;

/** A member's identities as one value: each once, ordered by type name and hash. */
export function identitiesBytes(ids: readonly { type: IdentityType; hash: string }[]): Buffer {
  const seen = new Map(ids.map((id) => [`${id.type}\n${id.hash}`, id] as const));
  return Buffer.concat([...seen.values()].sort(byTypeAndHash).map(identityBytes));
}

/** A member's identities read back, in their stored order. */
export function identitiesOf(bytes: Uint8Array): { type: IdentityType; hash: string }[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.byteLength % IDENTITY_BYTES !== 0) throw new TypeError('not stored identities');
  const out: { type: IdentityType; hash: string }[] = [];
  for (let at = 0; at < b.byteLength; at += IDENTITY_BYTES) {
    const type = IDENTITY_TYPES[b[at]! - 1];
    if (type === undefined) throw new TypeError('not stored identities');
    out.push({ type, hash: b.subarray(at + 1, at + IDENTITY_BYTES).toString('hex') });
  }
  return out;
}

/** Whether stored identities hold `id` (a 33-byte match at an identity's boundary, not just anywhere in the bytes). */
export function holdsIdentity(bytes: Uint8Array, id: { type: IdentityType; hash: string }): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const needle = identityBytes(id);
  for (let at = b.indexOf(needle); at >= 0; at = b.indexOf(needle, at + 1)) if (at % IDENTITY_BYTES === 0) return true;
  return false;
}

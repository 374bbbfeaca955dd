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
 * Half the bytes of hex, and compared as bytes (memcmp) instead of collated text.
 */

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

/**
 * Normalizers and hashing: pure functions from a raw (or pre-hashed) identifier to the SHA-256
 * digest X matches on, or a reason why it cannot be forwarded. Nothing here logs or stores; the
 * raw value never leaves these functions.
 */
import { createHash } from 'node:crypto';
import type { IdentityType } from '../core/terms.ts';
import { identifierTextProblem } from '../core/text.ts';
import { DEFAULT_PHONE_REGION, toE164, type PhoneRegion } from './phone.ts';

/** What a source calls an identifier; each maps onto one X `users` key. */
export type IdentityKind = 'email' | 'twitter_handle' | 'ios_advertising_id' | 'google_advertising_id' | 'phone_number';

export const KIND_TO_TYPE: Record<IdentityKind, IdentityType> = {
  email: 'email',
  twitter_handle: 'handle',
  ios_advertising_id: 'device_id',
  google_advertising_id: 'device_id',
  phone_number: 'phone_number',
};

/** How identifiers are read: the region of phone numbers written without a country code. */
export interface NormalizeOptions {
  phoneRegion?: PhoneRegion;
}

/** How the value arrives: mParticle's `encoding`. `md5` and `sha1` cannot be matched by X. */
export type Encoding = 'raw' | 'sha256' | 'md5' | 'sha1';
const ENCODINGS: ReadonlySet<string> = new Set<Encoding>(['raw', 'sha256', 'md5', 'sha1']);

export type RejectReason =
  | 'empty'
  | 'invalid_email'
  | 'invalid_handle'
  | 'invalid_device_id'
  | 'zeroed_device_id'
  | 'invalid_phone'
  | 'invalid_sha256'
  | 'unsupported_encoding'
  | 'invalid_encoding'
  | 'unknown_identity_type';

export type Normalized = { ok: true; type: IdentityType; hash: string } | { ok: false; kind: IdentityKind; reason: RejectReason; message: string };

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
// X handles are letters, digits and underscores; older accounts may exceed today's 15 characters.
const HANDLE = /^[a-z0-9_]{1,50}$/;
// Deliberately loose: one @ with something on each side and no spaces. Real addresses are
// too varied (non-ASCII local parts and domains exist) for anything stricter to be safe.
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function reject(kind: IdentityKind, reason: RejectReason, message: string): Normalized {
  return { ok: false, kind, reason, message };
}

/** The normalized raw form, or a rejection. Exported for golden-vector tests. */
export function normalizeRaw(kind: IdentityKind, value: string, opts: NormalizeOptions = {}): { ok: true; value: string } | Normalized {
  const trimmed = value.trim();
  if (trimmed === '') return reject(kind, 'empty', `${kind} is empty`);
  switch (kind) {
    case 'email': {
      const email = trimmed.toLowerCase();
      if (!EMAIL.test(email)) return reject(kind, 'invalid_email', 'email is not an address (it needs one @ with text on both sides)');
      return { ok: true, value: email };
    }
    case 'twitter_handle': {
      const handle = (trimmed.startsWith('@') ? trimmed.slice(1) : trimmed).toLowerCase();
      if (handle === '') return reject(kind, 'empty', 'twitter_handle is empty');
      if (!HANDLE.test(handle)) return reject(kind, 'invalid_handle', 'twitter_handle may hold only letters, digits and underscores');
      return { ok: true, value: handle };
    }
    case 'ios_advertising_id':
    case 'google_advertising_id': {
      const id = trimmed.toLowerCase();
      if (!UUID.test(id)) return reject(kind, 'invalid_device_id', `${kind} is not a UUID (8-4-4-4-12 hex digits with dashes)`);
      if (id === ZERO_UUID) return reject(kind, 'zeroed_device_id', `${kind} is all zeros (the user limited ad tracking)`);
      return { ok: true, value: id };
    }
    case 'phone_number': {
      const region = opts.phoneRegion ?? DEFAULT_PHONE_REGION;
      const e164 = toE164(trimmed, region);
      if (e164 === null)
        return reject(kind, 'invalid_phone', `phone_number is not a valid phone number (read in region ${region} when it has no country code)`);
      return { ok: true, value: e164 };
    }
  }
  // Reached only when a caller's cast let a string that is not an IdentityKind through.
  return reject(kind, 'unknown_identity_type', 'the identity type is not one Tailor forwards');
}

/**
 * Normalizes and hashes one identifier. A value that is already a 64-hex SHA-256 digest is
 * lower-cased and passed through, whatever the declared encoding, so pre-hashed REST input works
 * (a pre-hashed phone number must be the digest of its E.164 form with the `+`, phone.ts).
 * A value that is not valid Unicode text, or holds NUL or U+FFFD, is refused before anything else
 * (`invalid_encoding`, see core/text.ts): it is never hashed.
 */
export function hashIdentity(kind: IdentityKind, value: string, encoding: Encoding = 'raw', opts: NormalizeOptions = {}): Normalized {
  // Own-property checks: the kind and encoding may have come from a client's string, and a plain
  // object lookup would find `constructor` or `toString` on Object.prototype.
  if (!Object.hasOwn(KIND_TO_TYPE, kind)) return reject(kind, 'unknown_identity_type', 'the identity type is not one Tailor forwards');
  const type = KIND_TO_TYPE[kind];
  if (typeof value !== 'string') return reject(kind, 'invalid_encoding', `${kind} is not a string`);
  const textProblem = identifierTextProblem(value);
  if (textProblem !== null) return reject(kind, 'invalid_encoding', `${kind} ${textProblem}`);
  if (!ENCODINGS.has(encoding)) return reject(kind, 'unsupported_encoding', `${kind} arrived in an encoding Tailor does not know; it cannot be forwarded`);
  if (encoding === 'md5' || encoding === 'sha1') {
    return reject(kind, 'unsupported_encoding', `${kind} arrived ${encoding}-encoded; X matches only SHA-256, so it cannot be forwarded`);
  }
  const trimmed = value.trim();
  if (SHA256_HEX.test(trimmed)) return { ok: true, type, hash: trimmed.toLowerCase() };
  if (encoding === 'sha256') {
    return reject(kind, trimmed === '' ? 'empty' : 'invalid_sha256', `${kind} is declared sha256 but is not a 64-character hex digest`);
  }
  const normalized = normalizeRaw(kind, value, opts);
  if (!('value' in normalized)) return normalized;
  return { ok: true, type, hash: sha256Hex(normalized.value) };
}

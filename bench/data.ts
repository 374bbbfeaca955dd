/** Deterministic synthetic members: raw identifiers as users send them, and their normalized forms. */
import type { IdentityKind } from '../src/identity/index.ts';
import type { SourceMember } from '../src/membership/changes.ts';

/** A UUID-shaped device id derived from i (upper case, as iOS reports IDFAs). */
export function deviceId(i: number): string {
  const h = (i * 2654435761 + 0x9e3779b9).toString(16).padStart(8, '0').slice(-8);
  const n = i.toString(16).padStart(12, '0').slice(-12);
  return `${h}-${n.slice(0, 4)}-4${n.slice(4, 7)}-a${n.slice(7, 10)}-${h}${n.slice(8, 12)}`.toUpperCase();
}

const AREA_CODES = [202, 212, 312, 415, 617, 713, 206, 305];

/** A valid US number derived from i, spelled in one of the ways people write one. */
export function phoneNumber(i: number): string {
  const area = AREA_CODES[i % AREA_CODES.length]!;
  const exchange = 201 + (Math.floor(i / AREA_CODES.length) % 700); // 201–900: no N11 or 555 exchange
  const exchangeText = exchange % 100 === 11 || exchange === 555 ? String(exchange + 1) : String(exchange);
  const line = String(Math.floor(i / (AREA_CODES.length * 700)) % 10_000).padStart(4, '0');
  switch (i % 4) {
    case 0:
      return `(${area}) ${exchangeText}-${line}`;
    case 1:
      return `+1 ${area} ${exchangeText} ${line}`;
    case 2:
      return `${area}.${exchangeText}.${line}`;
    default:
      return `001 ${area}-${exchangeText}-${line}`;
  }
}

export function rawIdentity(kind: IdentityKind, i: number): string {
  switch (kind) {
    case 'email':
      return ` Member${i}@Example.com`;
    case 'twitter_handle':
      return `@Member_${i}`;
    case 'ios_advertising_id':
    case 'google_advertising_id':
      return deviceId(i);
    case 'phone_number':
      return phoneNumber(i);
  }
}

/** Member i with a user_id and an e-mail, a handle and an IDFA: three identity changes. */
export function member(i: number, prefix = 'm'): SourceMember {
  return {
    key: { kind: 'user_id', value: `${prefix}${i}` },
    identities: [
      { kind: 'email', value: rawIdentity('email', i) },
      { kind: 'twitter_handle', value: rawIdentity('twitter_handle', i) },
      { kind: 'ios_advertising_id', value: rawIdentity('ios_advertising_id', i) },
    ],
  };
}

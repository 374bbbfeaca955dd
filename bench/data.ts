/** Deterministic synthetic members: raw identifiers as users send them, and their normalized forms. */
import type { IdentityKind } from '../src/identity/index.ts';
import type { SourceMember } from '../src/membership/changes.ts';

/** A UUID-shaped device id derived from i (upper case, as iOS reports IDFAs). */
export function deviceId(i: number): string {
  const h = (i * 2654435761 + 0x9e3779b9).toString(16).padStart(8, '0').slice(-8);
  const n = i.toString(16).padStart(12, '0').slice(-12);
  return `${h}-${n.slice(0, 4)}-4${n.slice(4, 7)}-a${n.slice(7, 10)}-${h}${n.slice(8, 12)}`.toUpperCase();
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

/**
 * From source members (REST, Firehose, import) to ledger changes: every identifier normalized and
 * hashed here, once, before anything is stored. Rejections carry a reason and never the value.
 */
import { hashIdentity, type Encoding, type IdentityKind, type NormalizeOptions } from '../identity/index.ts';
import type { MemberChange } from '../store/port.ts';
import type { MemberKeys } from './member-key.ts';

export interface SourceIdentity {
  kind: IdentityKind;
  value: string;
  encoding?: Encoding;
}

/** What keys a member in its source: a REST or import `user_id`, or a Firehose `mpid`, raw as sent. */
export interface SourceKey {
  kind: 'user_id' | 'mpid';
  value: string;
}

export interface SourceMember {
  /** null when the source has neither a user id nor an mpid (each identity is then a member). */
  key: SourceKey | null;
  identities: SourceIdentity[];
}

export interface Rejection {
  /** Position of the member in its request or file. */
  index: number;
  field: IdentityKind;
  reason: string;
  message: string;
}

export interface PreparedChanges {
  changes: MemberChange[];
  accepted: number;
  rejected: Rejection[];
  /** Rejections counted by reason, for the audience's status. */
  counts: Record<string, number>;
}

/** Every member key of a change is built here, by `keys` (member-key.ts); the raw user id or mpid goes no further. */
export function prepareChanges(
  keys: MemberKeys,
  action: 'add' | 'remove',
  members: SourceMember[],
  firstIndex = 0,
  normalize: NormalizeOptions = {},
): PreparedChanges {
  const changes: MemberChange[] = [];
  const rejected: Rejection[] = [];
  const counts: Record<string, number> = {};
  let accepted = 0;
  members.forEach((member, i) => {
    const identities: MemberChange['identities'] = [];
    for (const id of member.identities) {
      const result = hashIdentity(id.kind, id.value, id.encoding ?? 'raw', normalize);
      if (result.ok) {
        if (!identities.some((x) => x.type === result.type && x.hash === result.hash)) identities.push({ type: result.type, hash: result.hash });
      } else {
        rejected.push({ index: firstIndex + i, field: id.kind, reason: result.reason, message: result.message });
        counts[result.reason] = (counts[result.reason] ?? 0) + 1;
      }
    }
    if (member.key !== null) {
      // With a key, an add states the member's whole current identity set (even an empty one);
      // a remove takes out everything the member contributed, whatever identities it names.
      changes.push({ memberKey: keys.of(member.key.kind, member.key.value), action, identities: action === 'add' ? identities : [] });
      accepted += 1;
    } else {
      for (const id of identities) changes.push({ memberKey: keys.of('identity', `${id.type}:${id.hash}`), action, identities: action === 'add' ? [id] : [] });
      if (identities.length > 0) accepted += 1;
    }
  });
  return { changes, accepted, rejected, counts };
}

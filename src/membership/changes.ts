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
  /** For each change, where its identities came from (parallel to `identities`): for the rejections of dropSuppressed. */
  origins: { index: number; fields: IdentityKind[] }[];
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
  const origins: PreparedChanges['origins'] = [];
  const rejected: Rejection[] = [];
  const counts: Record<string, number> = {};
  let accepted = 0;
  members.forEach((member, i) => {
    const identities: MemberChange['identities'] = [];
    const fields: IdentityKind[] = [];
    for (const id of member.identities) {
      const result = hashIdentity(id.kind, id.value, id.encoding ?? 'raw', normalize);
      if (result.ok) {
        if (!identities.some((x) => x.type === result.type && x.hash === result.hash)) {
          identities.push({ type: result.type, hash: result.hash });
          fields.push(id.kind);
        }
      } else {
        rejected.push({ index: firstIndex + i, field: id.kind, reason: result.reason, message: result.message });
        counts[result.reason] = (counts[result.reason] ?? 0) + 1;
      }
    }
    if (member.key !== null) {
      // With a key, an add states the member's whole current identity set (even an empty one);
      // a remove takes out everything the member contributed, whatever identities it names.
      changes.push({ memberKey: keys.of(member.key.kind, member.key.value), action, identities: action === 'add' ? identities : [] });
      origins.push({ index: firstIndex + i, fields: action === 'add' ? fields : [] });
      accepted += 1;
    } else {
      identities.forEach((id, k) => {
        changes.push({ memberKey: keys.of('identity', `${id.type}:${id.hash}`), action, identities: action === 'add' ? [id] : [] });
        origins.push({ index: firstIndex + i, fields: action === 'add' ? [fields[k]!] : [] });
      });
      if (identities.length > 0) accepted += 1;
    }
  });
  return { changes, origins, accepted, rejected, counts };
}

export const SUPPRESSED = 'suppressed';

/**
 * The adds of identities on the suppression list, taken out (docs/privacy.md): the member is still
 * accepted, but the identity is counted as rejected (`suppressed`) and never enters the ledger, so
 * it is never sent to X. A member without a key whose identity is suppressed makes no change at all.
 * Removes are left as they are.
 */
export function dropSuppressed(prepared: PreparedChanges, suppressed: ReadonlySet<string>): PreparedChanges {
  if (suppressed.size === 0) return prepared;
  const out: PreparedChanges = { changes: [], origins: [], accepted: prepared.accepted, rejected: [...prepared.rejected], counts: { ...prepared.counts } };
  prepared.changes.forEach((change, i) => {
    const origin = prepared.origins[i]!;
    if (change.action !== 'add') {
      out.changes.push(change);
      out.origins.push(origin);
      return;
    }
    const identities: MemberChange['identities'] = [];
    const fields: IdentityKind[] = [];
    change.identities.forEach((id, k) => {
      const field = origin.fields[k]!;
      if (suppressed.has(suppressionKey(id))) {
        out.rejected.push({ index: origin.index, field, reason: SUPPRESSED, message: `${field} is on the suppression list (opted out); it is not sent to X` });
        out.counts[SUPPRESSED] = (out.counts[SUPPRESSED] ?? 0) + 1;
      } else {
        identities.push(id);
        fields.push(field);
      }
    });
    // A keyed member's add states its whole set, without the suppressed identities; a member that
    // was only its identity is no change at all.
    if (identities.length === 0 && change.identities.length === 1 && change.memberKey === suppressionKey(change.identities[0]!)) return;
    out.changes.push({ ...change, identities });
    out.origins.push({ index: origin.index, fields });
  });
  return out;
}

export const suppressionKey = (id: { type: string; hash: string }): string => `${id.type}:${id.hash}`;

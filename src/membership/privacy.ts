/**
 * Identities for the suppression list and erasures (docs/privacy.md), normalized and hashed
 * exactly like members' (identity/), so a suppression or an erasure meets the ledger's hashes.
 */
import { createHash } from 'node:crypto';
import { hashIdentity, type NormalizeOptions } from '../identity/index.ts';
import type { HashedIdentity } from '../store/port.ts';
import type { Rejection, SourceIdentity } from './changes.ts';

export interface HashedRequest {
  identities: HashedIdentity[];
  /** Identifiers that could not be hashed, with their position; never the value. */
  rejected: Rejection[];
}

/**
 * Hashes each identity; `index` is the position of its entry in its request list. `opts` must be
 * what members are hashed with (the phone region), or a phone number would not meet its member.
 */
export function hashIdentities(entries: { index: number; identities: SourceIdentity[] }[], opts: NormalizeOptions = {}): HashedRequest {
  const out: HashedRequest = { identities: [], rejected: [] };
  const seen = new Set<string>();
  for (const entry of entries) {
    for (const id of entry.identities) {
      const r = hashIdentity(id.kind, id.value, id.encoding ?? 'raw', opts);
      if (!r.ok) {
        out.rejected.push({ index: entry.index, field: id.kind, reason: r.reason, message: r.message });
        continue;
      }
      const key = `${r.type}:${r.hash}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.identities.push({ type: r.type, hash: r.hash });
    }
  }
  return out;
}

/**
 * The idempotency key of an erasure from the REST API: a digest of its hashes and keyed member
 * digests, sorted, so the same request (in any field order) is the same erasure. A digest of
 * digests: it reveals neither, and is not itself a member key.
 */
export function erasureRequestKey(memberKeys: string[], identities: HashedIdentity[]): string {
  const parts = [...memberKeys.map((k) => `key:${k}`), ...identities.map((i) => `${i.type}:${i.hash}`)].sort();
  return `api:${createHash('sha256').update(parts.join('\n')).digest('hex')}`;
}

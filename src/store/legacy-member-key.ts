/**
 * Migration 0005 (both dialects): a member key as Tailor wrote it before 0005, to the key it has
 * since (src/membership/member-key.ts). Before 0005 the ledger held REST and import `user_id`s and
 * Firehose `mpid`s raw, and identity-keyed members as `<type>:<sha256 hex>`, all in one key space.
 *
 * - `^(email|handle|device_id):[0-9a-f]{64}$` is an identity-keyed member: kept as it is (such
 *   keys are unchanged by 0005). A user id spelled exactly like one was already merged with that
 *   identity's member before 0005; nothing recorded can tell them apart, so it stays merged.
 * - Anything else is a user id or an mpid, and the ledger never recorded which path wrote it. What
 *   can be known: the Firehose only ever writes to audiences whose id is an integer (mParticle's
 *   audience ids; src/sources/firehose/schema.ts) and only with mpids that are signed 64-bit
 *   integers. So a key is taken for an **mpid when both the audience id and the key have those
 *   forms**, and for a user id otherwise. The one case this cannot decide is a REST or import
 *   audience with an integer id and integer user ids: it is converted as if fed by mParticle, and
 *   a later REST/import add or remove by such a user id then misses the converted member (see
 *   docs/architecture.md, "Member keys").
 */
export type LegacyKeyClass = 'identity' | 'user_id' | 'mpid';

/** A key as written before 0005 that names an identity-keyed member. */
export const LEGACY_IDENTITY_KEY = /^(email|handle|device_id):[0-9a-f]{64}$/;
/** The same test as a PostgreSQL regular expression (POSIX ERE), for the conversion's SQL. */
export const LEGACY_IDENTITY_KEY_SQL = '^(email|handle|device_id):[0-9a-f]{64}$';

const FIREHOSE_AUDIENCE_ID = /^-?\d{1,12}$/;
const INT64_TEXT = /^-?\d{1,19}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isMpid(key: string): boolean {
  if (!INT64_TEXT.test(key)) return false;
  const n = BigInt(key);
  return n >= INT64_MIN && n <= INT64_MAX;
}

export function classifyLegacyKey(audienceId: string, key: string): LegacyKeyClass {
  if (LEGACY_IDENTITY_KEY.test(key)) return 'identity';
  return FIREHOSE_AUDIENCE_ID.test(audienceId) && isMpid(key) ? 'mpid' : 'user_id';
}

/** The new key of a legacy one; `memberKey` is the keyed builder handed to the store. */
export function convertLegacyKey(audienceId: string, key: string, memberKey: (kind: 'user_id' | 'mpid', raw: string) => string): string {
  const kind = classifyLegacyKey(audienceId, key);
  return kind === 'identity' ? key : memberKey(kind, key);
}

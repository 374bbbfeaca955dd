/**
 * The ledger's key for a member: the one place one is built, from the kind of member and its raw
 * value. Each kind has its own key space (its own prefix), so no value of one kind can be taken for
 * a member of another, whatever it is spelled like:
 *
 *   user:<64 hex>        a REST or import `user_id`
 *   mpid:<64 hex>        an mParticle `mpid`
 *   <type>:<sha256 hex>  a member without a key: the identity itself (email, handle, device_id or phone_number)
 *
 * User ids and mpids are people's identifiers (an e-mail is a common user id), so they are stored
 * only as HMAC-SHA256 under a key derived from TAILOR_SECRET_KEY with HKDF (its own label, so it is
 * unrelated to the key that seals X tokens, src/core/secret-box.ts). The same value always gives
 * the same key, so an add and a later remove meet; the database alone reveals nothing, and a
 * dictionary attack needs the secret. These keys are only compared, never shown. Changing
 * TAILOR_SECRET_KEY therefore also orphans the members keyed so far (docs/operations.md).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { IDENTITY_TYPES } from '../core/terms.ts';

export type MemberKind = 'user_id' | 'mpid' | 'identity';

const PREFIX = { user_id: 'user', mpid: 'mpid' } as const;
const IDENTITY_KEY = new RegExp(`^(${IDENTITY_TYPES.join('|')}):[0-9a-f]{64}$`);

export class MemberKeys {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length === 0) throw new TypeError('member keys need TAILOR_SECRET_KEY');
    this.key = Buffer.from(hkdfSync('sha256', secret, 'tailor', 'member-keys', 32));
  }

  /**
   * The member key of a user id or mpid (the raw value as sent), or of an identity-keyed member
   * (value `<type>:<sha256 hex>`, already a digest: kept as it is).
   */
  of(kind: MemberKind, value: string): string {
    if (kind === 'identity') {
      if (!IDENTITY_KEY.test(value)) throw new TypeError('an identity member key is <type>:<sha256 hex>');
      return value;
    }
    // The kind is part of the MAC too: the same string as a user id and as an mpid gives unrelated digests.
    const mac = createHmac('sha256', this.key).update(`${kind}\0`).update(value, 'utf8').digest('hex');
    return `${PREFIX[kind]}:${mac}`;
  }
}

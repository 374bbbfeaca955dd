import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { prepareChanges } from '../../src/membership/changes.ts';
import { MemberKeys } from '../../src/membership/member-key.ts';
import { classifyLegacyKey } from '../../src/store/legacy-member-key.ts';

const SECRET = '0123456789abcdef0123456789abcdef';
const keys = new MemberKeys(SECRET);
const E = 'a'.repeat(64);

describe('member keys', () => {
  it('golden vectors: HMAC-SHA256 under the HKDF "member-keys" key, kind-prefixed', () => {
    expect(keys.of('user_id', 'alice@example.com')).toBe('user:4b51fe278ca66e39aed608de7c72775694556cf8c69f5e07904449fe39e09769');
    expect(keys.of('mpid', '-1327484737295091692')).toBe('mpid:48c632414ad824855018bc7b5274830822611fa5efb63ae377e99735e1679c62');
    // Independently: the key is not the token-sealing key (info "x-tokens"), and the MAC covers the kind.
    const key = Buffer.from(hkdfSync('sha256', SECRET, 'tailor', 'member-keys', 32));
    expect(keys.of('user_id', 'u1')).toBe(`user:${createHmac('sha256', key).update('user_id\0u1').digest('hex')}`);
    const tokenKey = Buffer.from(hkdfSync('sha256', SECRET, 'tailor', 'x-tokens', 32));
    expect(keys.of('user_id', 'u1')).not.toBe(`user:${createHmac('sha256', tokenKey).update('user_id\0u1').digest('hex')}`);
  });

  it('one key space per kind: the same string as a user id, an mpid or an identity key never meets', () => {
    const raw = `email:${E}`;
    const all = [keys.of('user_id', raw), keys.of('mpid', raw), keys.of('identity', raw)];
    expect(new Set(all).size).toBe(3);
    expect(keys.of('identity', raw)).toBe(raw);
    expect(keys.of('user_id', '42').slice(5)).not.toBe(keys.of('mpid', '42').slice(5));
  });

  it('the same value gives the same key; another secret gives another; the raw value is not in it', () => {
    expect(keys.of('user_id', 'bob@example.com')).toBe(new MemberKeys(SECRET).of('user_id', 'bob@example.com'));
    expect(keys.of('user_id', 'bob@example.com')).not.toBe(new MemberKeys(`${SECRET}x`).of('user_id', 'bob@example.com'));
    expect(keys.of('user_id', 'bob@example.com')).toMatch(/^user:[0-9a-f]{64}$/);
  });

  it('refuses an empty secret and a malformed identity key', () => {
    expect(() => new MemberKeys('')).toThrow(/TAILOR_SECRET_KEY/);
    expect(() => keys.of('identity', 'email:not-a-digest')).toThrow();
    expect(() => keys.of('identity', `phone:${E}`)).toThrow();
  });

  it('prepareChanges keys every member through them: REST user ids, mpids and identity members', () => {
    const p = prepareChanges(keys, 'add', [
      { key: { kind: 'user_id', value: 'alice@example.com' }, identities: [{ kind: 'email', value: 'alice@example.com' }] },
      { key: { kind: 'mpid', value: '7' }, identities: [] },
      { key: null, identities: [{ kind: 'email', value: E, encoding: 'sha256' }] },
    ]);
    expect(p.changes.map((c) => c.memberKey)).toEqual([keys.of('user_id', 'alice@example.com'), keys.of('mpid', '7'), `email:${E}`]);
    expect(JSON.stringify(p.changes)).not.toContain('alice@example.com');
  });
});

describe('legacy keys (migration 0005)', () => {
  it.each([
    ['spring', `email:${E}`, 'identity'],
    ['7622', `device_id:${E}`, 'identity'],
    ['spring', 'alice@example.com', 'user_id'],
    ['spring', '12345', 'user_id'], // an audience the Firehose cannot have written (its id is not an integer)
    ['42', 'bob', 'user_id'], // not an mpid's form
    ['42', '99999999999999999999', 'user_id'], // outside 64 bits: not an mpid
    ['7622', '-1327484737295091692', 'mpid'],
    ['42', '77', 'mpid'], // the ambiguous case: taken for an mpid (docs/architecture.md)
    ['spring', `email:${E.toUpperCase()}`, 'user_id'], // Tailor never wrote upper-case digests
  ])('audience %s, key %s: %s', (audience, key, kind) => {
    expect(classifyLegacyKey(audience, key)).toBe(kind);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashIdentity, normalizeRaw } from '../../src/identity/index.ts';

// Digests pinned by value: a change to normalization changes them and fails here.
const PERSON = '542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345'; // person@example.com
const JACK = '31611159e7e6ff7843ea4627745e89225fc866621cfcfdbd40871af4413747cc'; // jack
const ADSAPI = '49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d'; // adsapi, X's documented example
const IDFA = '225859d35b46df63b4fb381eb3f815b2ef4620bec0a79f2115a6a3eb71a5fa1a'; // 4b61639e-47cc-4056-a16a-c8217e029462
const NON_ASCII = '88a5fce066b185a5417601d971b4fca2b5e969d163bc0846426140956078d437'; // josé@exämple.com

describe('hashIdentity golden vectors', () => {
  it.each([
    ['email', 'person@example.com', PERSON],
    ['email', '  Person@Example.COM ', PERSON],
    ['email', 'JOSÉ@EXÄMPLE.COM', NON_ASCII],
    ['twitter_handle', '@Jack', JACK],
    ['twitter_handle', ' jack ', JACK],
    ['twitter_handle', 'AdsApi', ADSAPI],
    ['ios_advertising_id', '4B61639E-47CC-4056-A16A-C8217E029462', IDFA],
    ['google_advertising_id', ' 4b61639e-47cc-4056-a16a-c8217e029462', IDFA],
  ] as const)('%s %j', (kind, value, digest) => {
    expect(hashIdentity(kind, value)).toEqual({
      ok: true,
      type: kind === 'email' ? 'email' : kind === 'twitter_handle' ? 'handle' : 'device_id',
      hash: digest,
    });
  });

  it('passes through digests, lower-cased, with raw or sha256 encoding', () => {
    expect(hashIdentity('email', PERSON.toUpperCase())).toEqual({ ok: true, type: 'email', hash: PERSON });
    expect(hashIdentity('twitter_handle', ` ${JACK} `, 'sha256')).toEqual({ ok: true, type: 'handle', hash: JACK });
  });

  it('rejects what X cannot match, with a reason', () => {
    expect(hashIdentity('email', 'no-at-sign.example.com')).toMatchObject({ ok: false, reason: 'invalid_email' });
    expect(hashIdentity('email', '   ')).toMatchObject({ ok: false, reason: 'empty' });
    expect(hashIdentity('twitter_handle', '@')).toMatchObject({ ok: false, reason: 'empty' });
    expect(hashIdentity('twitter_handle', 'two words')).toMatchObject({ ok: false, reason: 'invalid_handle' });
    expect(hashIdentity('ios_advertising_id', 'not-a-uuid')).toMatchObject({ ok: false, reason: 'invalid_device_id' });
    expect(hashIdentity('ios_advertising_id', '00000000-0000-0000-0000-000000000000')).toMatchObject({ ok: false, reason: 'zeroed_device_id' });
    expect(hashIdentity('email', 'abc', 'sha256')).toMatchObject({ ok: false, reason: 'invalid_sha256' });
    expect(hashIdentity('email', '5f4dcc3b5aa765d61d8327deb882cf99', 'md5')).toMatchObject({ ok: false, reason: 'unsupported_encoding' });
    expect(hashIdentity('email', ADSAPI, 'sha1')).toMatchObject({ ok: false, reason: 'unsupported_encoding' });
  });

  it('never echoes the raw value in a rejection message', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4 }), (raw) => {
        const result = hashIdentity('email', `${raw}X#secret`);
        if (!result.ok) expect(result.message).not.toContain('X#secret');
      }),
    );
  });

  it('normalization is idempotent', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const once = normalizeRaw('email', ` ${email.toUpperCase()} `);
        if ('value' in once) expect(normalizeRaw('email', once.value)).toEqual(once);
      }),
    );
  });
});

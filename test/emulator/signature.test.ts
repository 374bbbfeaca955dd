/**
 * The emulator's verifier against X's documented signature example ("Creating a signature",
 * docs/reference/x-ads-api.md 9.2 [S8]) and against the tests' independent signer (test/support/oauth.ts).
 */
import { describe, expect, it } from 'vitest';
import { percentEncode } from '../../src/emulator/oauth/percent-encode.ts';
import { hmacSha1Signature, signatureBaseString } from '../../src/emulator/oauth/signature.ts';
import { parseOAuthHeader } from '../../src/emulator/oauth/authorization-header.ts';
import { testSigner } from '../support/oauth.ts';

describe('HMAC-SHA1 signature', () => {
  it("matches X's documented example", () => {
    const pairs = [
      ['include_entities', 'true'],
      ['status', 'Hello Ladies + Gentlemen, a signed OAuth request!'],
      ['oauth_consumer_key', 'xvz1evFS4wEEPTGEFPHBog'],
      ['oauth_nonce', 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '1318622958'],
      ['oauth_token', '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb'],
      ['oauth_version', '1.0'],
    ] as const;
    const base = signatureBaseString('post', 'https://api.twitter.com/1.1/statuses/update.json', pairs);
    expect(base.startsWith('POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key')).toBe(true);
    expect(hmacSha1Signature(base, 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw', 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE')).toBe(
      'hCtSmYh+iHYCEqBWrE7C7hYmtUk=',
    );
  });

  it('agrees with oauth-1.0a on parameters that need encoding', () => {
    const oauth = testSigner({ key: 'ck', secret: 'c s!*' });
    const url = 'http://127.0.0.1:9/12/accounts/abc/custom_audiences';
    const data = { name: "Émile's (list) *2*", description: 'a,b:c' };
    const auth = oauth.authorize({ url, method: 'POST', data }, { key: 'tk', secret: 'ts~' });
    const header = parseOAuthHeader(oauth.toHeader(auth).Authorization);
    if (!header.ok) throw new Error('unparsable header');
    const pairs = [...Object.entries(data), ...[...header.params].filter(([k]) => k !== 'oauth_signature')];
    expect(hmacSha1Signature(signatureBaseString('POST', url, pairs), 'c s!*', 'ts~')).toBe(auth.oauth_signature);
  });

  it('percent-encodes as RFC 3986 requires', () => {
    expect(percentEncode("a b!*'()~-._:,/")).toBe('a%20b%21%2A%27%28%29~-._%3A%2C%2F');
    expect(percentEncode('é')).toBe('%C3%A9');
  });
});

import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type OAuth from 'oauth-1.0a';
import { describe, expect, it } from 'vitest';
import { testSigner } from '../support/oauth.ts';
import { authorizationHeader, formParams, hmacSha1Signature, parameterString, percentEncode, signRequest, signatureBaseString } from '../../src/x/oauth.ts';

// X's "Creating a signature" example (fundamentals/authentication/oauth-1-0a/creating-a-signature).
const X_EXAMPLE = {
  consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
  tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  status: 'Hello Ladies + Gentlemen, a signed OAuth request!',
  nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
  timestamp: 1318622958,
};

function signXExample(host: string, consumerKey: string) {
  return signRequest({
    method: 'post',
    url: `https://${host}/1.1/statuses/update.json?include_entities=true`,
    consumer: { key: consumerKey, secret: X_EXAMPLE.consumerSecret },
    token: { key: X_EXAMPLE.token, secret: X_EXAMPLE.tokenSecret },
    form: [['status', X_EXAMPLE.status]],
    nonce: X_EXAMPLE.nonce,
    timestamp: X_EXAMPLE.timestamp,
  });
}

describe("X's documented signature example", () => {
  it('api.twitter.com version: hCtSmYh+iHYCEqBWrE7C7hYmtUk=', () => {
    // The published vector uses consumer key xvz1evFS4wEEPTGEFPHBog; the signature only matches
    // with that key (with xvz1evFRYvRZDcEyJrrQV1g2qTuk it is another value, checked below).
    const signed = signXExample('api.twitter.com', 'xvz1evFS4wEEPTGEFPHBog');
    expect(signed.baseString).toBe(
      'POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26' +
        'oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26' +
        'oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26' +
        'oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26' +
        'status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521',
    );
    expect(signed.signature).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
  });

  it('api.x.com version of the same page: Ls93hJiZbQ3akF3HF3x1Bz8/zU4=', () => {
    expect(signXExample('api.x.com', 'xvz1evFS4wEEPTGEFPHBog').signature).toBe('Ls93hJiZbQ3akF3HF3x1Bz8/zU4=');
  });

  it('the same request with consumer key xvz1evFRYvRZDcEyJrrQV1g2qTuk agrees with oauth-1.0a', () => {
    const signed = signXExample('api.twitter.com', 'xvz1evFRYvRZDcEyJrrQV1g2qTuk');
    expect(signed.signature).toBe('mxZVUxKzPQuhtuqAZgiFQVaeuiA=');
    const { oauth_signature: _sig, ...oauthData } = signed.oauthParams;
    const independent = referenceOAuth('xvz1evFRYvRZDcEyJrrQV1g2qTuk', X_EXAMPLE.consumerSecret).getSignature(
      {
        url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
        method: 'POST',
        data: { status: X_EXAMPLE.status },
      },
      X_EXAMPLE.tokenSecret,
      oauthData as unknown as OAuth.Data,
    );
    expect(signed.signature).toBe(independent);
  });

  it('builds the header X expects: OAuth k="v", … sorted, values percent-encoded', () => {
    const signed = signXExample('api.twitter.com', 'xvz1evFS4wEEPTGEFPHBog');
    expect(signed.authorization).toBe(
      'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", ' +
        'oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", ' +
        'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", oauth_signature_method="HMAC-SHA1", ' +
        'oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", ' +
        'oauth_version="1.0"',
    );
  });
});

describe('RFC 5849', () => {
  it('section 3.4.1: base string with query, form body, duplicate keys and encoded keys', () => {
    // POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b with body c2&a3=2+q (3.4.1.1).
    const base = signatureBaseString('POST', 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b', [
      ...formParams('c2&a3=2+q'),
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
    ]);
    expect(base).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26' +
        'c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26' +
        'oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('section 3.4.1.3.2: the normalized parameter string', () => {
    expect(
      parameterString([
        ['b5', '=%3D'],
        ['a3', 'a'],
        ['c@', ''],
        ['a2', 'r b'],
        ['oauth_consumer_key', '9djdj82h48djs9d2'],
        ['oauth_token', 'kkk9d7dh3k39sjv7'],
        ['oauth_signature_method', 'HMAC-SHA1'],
        ['oauth_timestamp', '137131201'],
        ['oauth_nonce', '7d8f3e4a'],
        ['c2', ''],
        ['a3', '2 q'],
      ]),
    ).toBe(
      'a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&' +
        'oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7',
    );
  });

  it('section 3.4.1.2: scheme and host lower-cased, default port dropped, other ports kept', () => {
    const base = (url: string) => signatureBaseString('GET', url, []).split('&')[1];
    expect(base('HTTP://EXAMPLE.COM:80/r%20v/X?id=123')).toBe(percentEncode('http://example.com/r%20v/X'));
    expect(base('https://www.example.net:8080/?q=1')).toBe(percentEncode('https://www.example.net:8080/'));
    expect(base('https://example.com:443/a')).toBe(percentEncode('https://example.com/a'));
  });

  it('keys that name Object.prototype members are ordinary parameters', () => {
    expect(signatureBaseString('GET', 'https://a.test/c?__proto__=1&constructor=2', [])).toBe('GET&https%3A%2F%2Fa.test%2Fc&__proto__%3D1%26constructor%3D2');
  });

  it('section 1.2: temporary credentials request (signed with the consumer only)', () => {
    const base = signatureBaseString('POST', 'https://photos.example.net/initiate', [
      ['oauth_consumer_key', 'dpf43f3p2l4k3l03'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131200'],
      ['oauth_nonce', 'wIjqoS'],
      ['oauth_callback', 'http://printer.example.com/ready'],
    ]);
    expect(hmacSha1Signature(base, 'kd94hf93k423kf44')).toBe('74KNZJeDHnMBp0EMJ9ZHt/XKycU=');
  });

  it('section 1.2: protected resource request', () => {
    const base = signatureBaseString('GET', 'http://photos.example.net/photos?file=vacation.jpg&size=original', [
      ['oauth_consumer_key', 'dpf43f3p2l4k3l03'],
      ['oauth_token', 'nnch734d00sl2jdk'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131202'],
      ['oauth_nonce', 'chapoH'],
    ]);
    expect(hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });
});

describe('percentEncode', () => {
  it('encodes what X needs encoded, with upper-case hex', () => {
    expect(percentEncode('2018-05-15T00:00:00Z')).toBe('2018-05-15T00%3A00%3A00Z');
    expect(percentEncode('a,b')).toBe('a%2Cb');
    expect(percentEncode("!*'()")).toBe('%21%2A%27%28%29');
    expect(percentEncode('Ladies + Gentlemen')).toBe('Ladies%20%2B%20Gentlemen');
    expect(percentEncode('☃')).toBe('%E2%98%83');
    expect(percentEncode('AZaz09-._~')).toBe('AZaz09-._~');
  });

  it('round-trips through decodeURIComponent and leaves only unreserved characters bare', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
        const encoded = percentEncode(s);
        expect(decodeURIComponent(encoded)).toBe(s);
        // Outside %XX escapes (upper-case hex), only A-Z a-z 0-9 - . _ ~ remain.
        expect(encoded.replace(/%[0-9A-F]{2}/g, '')).toMatch(/^[A-Za-z0-9\-._~]*$/);
        expect(encoded).not.toMatch(/%[0-9A-F]?[a-f]/);
        // Every unreserved character of the input is still there as itself.
        const unreserved = [...s].filter((c) => /^[A-Za-z0-9\-._~]$/.test(c)).join('');
        expect(encoded.replace(/%[0-9A-F]{2}/g, '')).toBe(unreserved);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the oauth-1.0a package on any string', () => {
    const reference = referenceOAuth('k', 's');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 32 }), (s) => {
        expect(percentEncode(s)).toBe(reference.percentEncode(s));
      }),
    );
  });
});

describe('signRequest', () => {
  it('agrees with oauth-1.0a for any query parameters (JSON bodies are never signed)', () => {
    // Keys as X names them: oauth-1.0a does not decode query keys (only values), and keeps them in
    // a plain object, so keys that need encoding or name Object.prototype members (`__proto__`,
    // `constructor`) would compare our correct result with its wrong one.
    const key = fc.stringMatching(/^[a-z_]{1,12}$/).filter((k) => !k.startsWith('oauth_') && !(k in Object.prototype) && k !== '__proto__');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, fc.string({ unit: 'binary', maxLength: 20 })), {
          selector: ([k]) => k,
          maxLength: 6,
        }),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        (query, method) => {
          const qs = query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
          const url = `https://ads-api.x.com/12/accounts/abc/custom_audiences${qs ? `?${qs}` : ''}`;
          const signed = signRequest({
            method,
            url,
            consumer: { key: 'ck', secret: 'cs&/+' },
            token: { key: 'tk', secret: 'ts=:' },
          });
          const { oauth_signature: _s, ...oauthData } = signed.oauthParams;
          const independent = referenceOAuth('ck', 'cs&/+').getSignature({ url, method, data: {} }, 'ts=:', oauthData as unknown as OAuth.Data);
          expect(signed.signature).toBe(independent);
        },
      ),
    );
  });

  it('puts extra protocol parameters (oauth_callback) in the header and the signature', () => {
    const signed = signRequest({
      method: 'POST',
      url: 'https://api.x.com/oauth/request_token',
      consumer: { key: 'ck', secret: 'cs' },
      extraOAuth: { oauth_callback: 'https://tailor.example/x/callback?a=1' },
      nonce: 'n',
      timestamp: 1,
    });
    expect(signed.authorization).toContain('oauth_callback="https%3A%2F%2Ftailor.example%2Fx%2Fcallback%3Fa%3D1"');
    expect(signed.authorization).not.toContain('oauth_token=');
    expect(signed.baseString).toContain('oauth_callback%3Dhttps%253A%252F%252Ftailor.example');
    // Signed with the consumer secret and an empty token secret: key `cs&`.
    expect(signed.signature).toBe(createHmac('sha1', 'cs&').update(signed.baseString).digest('base64'));
  });

  it('uses a fresh ASCII nonce and the current time by default', () => {
    const a = signRequest({ method: 'GET', url: 'https://x.test/', consumer: { key: 'k', secret: 's' } });
    const b = signRequest({ method: 'GET', url: 'https://x.test/', consumer: { key: 'k', secret: 's' } });
    expect(a.oauthParams.oauth_nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(a.oauthParams.oauth_nonce).not.toBe(b.oauthParams.oauth_nonce);
    expect(Math.abs(Number(a.oauthParams.oauth_timestamp) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('authorizationHeader sorts keys and encodes values', () => {
    expect(authorizationHeader({ oauth_b: 'x y', oauth_a: '1/2' })).toBe('OAuth oauth_a="1%2F2", oauth_b="x%20y"');
  });
});

function referenceOAuth(key: string, secret: string): OAuth {
  return testSigner({ key, secret });
}

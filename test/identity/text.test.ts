import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorPosition } from '../../src/core/json-position.ts';
import { cleanName, identifierTextProblem, nameTextProblem } from '../../src/core/text.ts';
import { hashIdentity, type Encoding, type IdentityKind } from '../../src/identity/index.ts';
import { identityKindOf, type IdentityList } from '../../src/sources/firehose/schema.ts';

const KINDS: IdentityKind[] = ['email', 'twitter_handle', 'ios_advertising_id', 'google_advertising_id', 'phone_number'];

describe('identifier text (issue 11): Unicode scalar strings without NUL or U+FFFD', () => {
  it.each(['person@example.com', 'josé@exämple.com', '😀@example.com', 'jack', '', ' spaced '])('%j is text', (v) => {
    expect(identifierTextProblem(v)).toBeNull();
  });

  it.each([
    ['\ud800', 'is not valid Unicode (a lone surrogate, U+D800 at position 1)'],
    ['ab\udc00', 'is not valid Unicode (a lone surrogate, U+DC00 at position 3)'],
    ['x@example.com\udbff', 'is not valid Unicode (a lone surrogate, U+DBFF at position 14)'],
    ['\udc00\ud800', 'is not valid Unicode (a lone surrogate, U+DC00 at position 1)'], // the wrong order is no pair
    ['a\u0000b@example.com', 'holds a NUL character (at position 2)'],
    ['caf\ufffd@example.com', 'holds U+FFFD (at position 4), which stands for bytes that were not valid UTF-8'],
  ])('%j: %s', (v, message) => {
    expect(identifierTextProblem(v)).toBe(message);
  });

  it('hashIdentity refuses such values with invalid_encoding, for every kind and encoding, before hashing', () => {
    for (const kind of KINDS) {
      for (const encoding of ['raw', 'sha256'] as Encoding[]) {
        for (const value of ['\ud800@example.com', 'a\u0000b', 'caf\ufffd', `${'a'.repeat(63)}\u0000`]) {
          const r = hashIdentity(kind, value, encoding);
          expect(r, `${kind} ${encoding} ${JSON.stringify(value)}`).toMatchObject({ ok: false, kind, reason: 'invalid_encoding' });
          if (!r.ok) expect(r.message).toMatch(new RegExp(`^${kind} `));
        }
      }
    }
  });

  it('the reason never holds the value', () => {
    const r = hashIdentity('email', 'secret.person\ud800@example.com');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).not.toContain('secret');
  });

  it('hashIdentity refuses a kind or encoding that only a cast let through, even one on Object.prototype', () => {
    for (const kind of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'phone']) {
      expect(hashIdentity(kind as IdentityKind, 'a'.repeat(64)), kind).toMatchObject({ ok: false, reason: 'unknown_identity_type' });
      expect(hashIdentity(kind as IdentityKind, 'a@example.com'), kind).toMatchObject({ ok: false, reason: 'unknown_identity_type' });
    }
    for (const encoding of ['constructor', 'base64', 'SHA256']) {
      expect(hashIdentity('email', 'a@example.com', encoding as Encoding), encoding).toMatchObject({ ok: false, reason: 'unsupported_encoding' });
    }
  });
});

describe('Firehose identity types', () => {
  it.each([
    ['user_identities', 'email', 'email'],
    ['user_identities', 'twitter', 'twitter_handle'],
    ['user_identities', 'mobile_number', 'phone_number'],
    ['user_identities', 'phone_number_2', 'phone_number'],
    ['user_identities', 'phone_number_3', 'phone_number'],
    ['device_identities', 'mobile_number', 'unknown'],
    ['device_identities', 'ios_advertising_id', 'ios_advertising_id'],
    ['device_identities', 'google_advertising_id', 'google_advertising_id'],
    ['user_identities', 'customer', 'ignored'],
    ['user_identities', 'other10', 'ignored'],
    ['device_identities', 'android_id', 'ignored'],
    ['device_identities', 'email', 'unknown'], // a user identity type in the device list
    ['user_identities', 'ios_advertising_id', 'unknown'],
    ['user_identities', 'Email', 'unknown'],
    ['user_identities', '', 'unknown'],
    ...Object.getOwnPropertyNames(Object.prototype).flatMap((k): [IdentityList, string, string][] => [
      ['user_identities', k, 'unknown'],
      ['device_identities', k, 'unknown'],
    ]),
  ] as [IdentityList, string, string][])('%s %j → %s', (list, type, expected) => {
    expect(identityKindOf(list, type)).toBe(expected);
  });
});

describe('names (audience and configuration names)', () => {
  it.each(['Spring sale', "Soldes d'été 😀", 'العربية', 'a-b_c (1) [2]', 'x'.repeat(200)])('%j is a name', (v) => {
    expect(nameTextProblem(v)).toBeNull();
  });

  it.each([
    ['bell\u0007', 'must not hold control characters (U+0007 at position 5)'],
    ['\u0000', 'must not hold control characters (U+0000 at position 1)'],
    ['tab\there', 'must not hold control characters (U+0009 at position 4)'],
    ['new\nline', 'must not hold control characters (U+000A at position 4)'],
    ['del\u007f', 'must not hold control characters (U+007F at position 4)'],
    ['c1\u0085', 'must not hold control characters (U+0085 at position 3)'],
    ['c1\u009f', 'must not hold control characters (U+009F at position 3)'],
    ['\u202aLRE', 'must not hold bidirectional override, isolate or mark characters (U+202A at position 1)'],
    ['evil\u202egnp.exe', 'must not hold bidirectional override, isolate or mark characters (U+202E at position 5)'],
    ['iso\u2066late', 'must not hold bidirectional override, isolate or mark characters (U+2066 at position 4)'],
    ['pdi\u2069', 'must not hold bidirectional override, isolate or mark characters (U+2069 at position 4)'],
    ['lrm\u200e', 'must not hold bidirectional override, isolate or mark characters (U+200E at position 4)'],
    ['rlm\u200f', 'must not hold bidirectional override, isolate or mark characters (U+200F at position 4)'],
    ['alm\u061c', 'must not hold bidirectional override, isolate or mark characters (U+061C at position 4)'],
    ['half\ud83d', 'is not valid Unicode (a lone surrogate, U+D83D at position 5)'],
  ])('%j: %s', (v, message) => {
    expect(nameTextProblem(v)).toBe(message);
  });

  it.each([
    ['Spring sale', 'Spring sale'],
    ['evil\u202egnp.exe', 'evilgnp.exe'],
    ['two\nlines\r\nhere', 'two lines here'],
    ['\u0000\u2066 padded \u2069\u0007', 'padded'],
    ['half\ud83d', 'half\ufffd'],
    ['😀 kept', '😀 kept'],
  ])('cleanName(%j) = %j', (v, clean) => {
    expect(cleanName(v)).toBe(clean);
    expect(nameTextProblem(cleanName(v))).toBeNull();
  });

  it('cleanName always yields a valid name', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (v) => nameTextProblem(cleanName(v)) === null));
  });
});

describe('jsonErrorPosition', () => {
  it.each([
    ['', 0],
    ['{"type": alice@example.com}', 9],
    ['{"a":1,}', 7],
    ['[1,2', 4],
    ['"abc', 4],
    ['{"a" 1}', 5],
    ['01', 1],
    ['{"a":"\u0001"}', 6],
    ['{"a":"\\x"}', 7],
    // V8 points at the first of the four characters after \u that is not a hex digit.
    ['{"a":"\\u12G4"}', 10],
    ['"\\u"', 3],
    ['"ab\\uZ"', 5],
    ['[1] x', 4],
    ['{"a":tru}', 8],
    ['-', 1],
    ['1.', 2],
    ['-x', 1],
    ['1e+', 3],
    ['1.5e}', 4],
    ['['.repeat(100_000), 100_000],
  ] as const)('%j → %i', (text, at) => {
    expect(jsonErrorPosition(text)).toBe(at);
  });

  it('is -1 exactly for JSON, and agrees with V8 wherever V8 names a position', () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc
        .json()
        .chain((t) =>
          fc
            .tuple(fc.nat(t.length), fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '\\', ' ', '\u0001'))
            .map(([i, c]) => t.slice(0, i) + c + t.slice(i + 1)),
        ),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        let v8: number | null | undefined; // undefined: parsed
        try {
          JSON.parse(text);
        } catch (err) {
          const m = /at position (\d+)/.exec((err as Error).message);
          v8 = m ? Number(m[1]) : null;
        }
        const ours = jsonErrorPosition(text);
        if (v8 === undefined) expect(ours).toBe(-1);
        else {
          expect(ours).toBeGreaterThanOrEqual(0);
          if (v8 !== null) expect(ours).toBe(v8);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

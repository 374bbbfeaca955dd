/**
 * Phone numbers (issue 15): every spelling of one number → one E.164 string → one digest, the
 * digest of E.164 WITH its leading `+` (docs/reference/x-ads-api.md 5.3), and `invalid_phone` for
 * what is not a valid number of its region.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashIdentity, normalizeRaw, phoneRegionOf, sha256Hex, toE164 } from '../../src/identity/index.ts';

// Digests pinned by value: a change to normalization or hashing changes them and fails here.
const X_EXAMPLE = '1fa6b8d986d9b9cd01bf36951815158bbde9f520c0567c835dfe34783d0a4231'; // +11234567890, X's Conversions API example
const US = '54af34308301e43f00650baaeb6cf4925b942201d74191b26d48292cfec907fd'; // +12025550143
const GB = 'f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d'; // +442079460958
const DE = '4db5829924ee5c466cbd9ac69b2a6af527f758614fa3b3aec8c89b16a709a678'; // +4930901820

describe('phone golden vectors', () => {
  it('hashes E.164 with its + exactly as X documents the example', () => {
    expect(sha256Hex('+11234567890')).toBe(X_EXAMPLE);
    // The same digits without the +: a different digest, which is why the form matters.
    expect(sha256Hex('11234567890')).not.toBe(X_EXAMPLE);
  });

  it.each([
    // US national spellings, read in the default region (US)
    ['(202) 555-0143', 'US'],
    ['202-555-0143', 'US'],
    ['202.555.0143', 'US'],
    ['202 555 0143', 'US'],
    ['2025550143', 'US'],
    ['1 (202) 555-0143', 'US'],
    ['12025550143', 'US'],
    // international spellings: leading +, 00 prefix, the US's own 011 prefix
    ['+1 202-555-0143', 'US'],
    ['+1 (202) 555-0143', 'US'],
    ['+12025550143', 'US'],
    ['001 202 555 0143', 'US'],
    ['0012025550143', 'US'],
    ['011 1 202 555 0143', 'US'],
    ['  +1 202 555 0143  ', 'US'],
    ['+1 202 555 0143 ext. 12', 'US'],
    // a number with its country code means the same in any region
    ['+1 202 555 0143', 'GB'],
    ['00 1 202 555 0143', 'DE'],
  ] as const)('%j (region %s) → +12025550143', (value, region) => {
    expect(normalizeRaw('phone_number', value, { phoneRegion: region })).toEqual({ ok: true, value: '+12025550143' });
    expect(hashIdentity('phone_number', value, 'raw', { phoneRegion: region })).toEqual({ ok: true, type: 'phone_number', hash: US });
  });

  it.each([
    ['020 7946 0958', 'GB'],
    ['020-7946-0958', 'GB'],
    ['(020) 7946 0958', 'GB'],
    ['+44 20 7946 0958', 'GB'],
    ['+44 (0)20 7946 0958', 'GB'],
    ['0044 20 7946 0958', 'GB'],
    ['+44 20 7946 0958', 'US'],
    ['0044 20 7946 0958', 'US'],
    ['00 44 (0)20 7946 0958', 'US'],
  ] as const)('%j (region %s) → +442079460958', (value, region) => {
    expect(hashIdentity('phone_number', value, 'raw', { phoneRegion: region })).toEqual({ ok: true, type: 'phone_number', hash: GB });
  });

  it('reads a number without its country code in the region given, US by default', () => {
    expect(hashIdentity('phone_number', '030 901820', 'raw', { phoneRegion: 'DE' })).toEqual({ ok: true, type: 'phone_number', hash: DE });
    expect(hashIdentity('phone_number', '(202) 555-0143')).toEqual({ ok: true, type: 'phone_number', hash: US });
    // A UK national number is no US number.
    expect(hashIdentity('phone_number', '020 7946 0958')).toMatchObject({ ok: false, reason: 'invalid_phone' });
  });

  it('passes 64-hex digests through, lower-cased, as for the other types', () => {
    expect(hashIdentity('phone_number', X_EXAMPLE.toUpperCase())).toEqual({ ok: true, type: 'phone_number', hash: X_EXAMPLE });
    expect(hashIdentity('phone_number', ` ${US} `, 'sha256')).toEqual({ ok: true, type: 'phone_number', hash: US });
    expect(hashIdentity('phone_number', '+12025550143', 'sha256')).toMatchObject({ ok: false, reason: 'invalid_sha256' });
  });

  it.each([
    '202 555 014', // too short
    '+1 123 456 7890', // X's example number: area code 123 does not exist
    '+1 202 555 01439', // too long
    '555-0143',
    '+999 123 456',
    '00',
    '+',
    'abc',
    'tel:+12025550143',
    'phone: 202 555 0143',
    '2025550143abc',
    '+1-800-FLOWERS',
    'jane@example.com',
    '1'.repeat(80),
  ])('rejects %j as invalid_phone', (value) => {
    const r = hashIdentity('phone_number', value);
    expect(r).toMatchObject({ ok: false, kind: 'phone_number', reason: 'invalid_phone' });
    if (!r.ok) expect(r.message).not.toContain(value);
  });

  it('an empty number is empty, not invalid', () => {
    expect(hashIdentity('phone_number', '   ')).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('E.164 is a fixed point: normalizing it again gives itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2_000_000, max: 9_999_999 }), fc.constantFrom(202, 212, 415, 617), (line, area) => {
        const e164 = toE164(`(${area}) ${String(line).slice(0, 3)}-${String(line).slice(3)}`, 'US');
        if (e164 !== null) {
          expect(e164).toMatch(/^\+1\d{10}$/);
          expect(toE164(e164, 'GB')).toBe(e164);
        }
      }),
    );
  });
});

describe('phone regions (TAILOR_DEFAULT_PHONE_REGION)', () => {
  it('takes ISO 3166 alpha-2 codes with a numbering plan, any case', () => {
    expect(phoneRegionOf('US')).toBe('US');
    expect(phoneRegionOf(' gb ')).toBe('GB');
    expect(phoneRegionOf('De')).toBe('DE');
  });
  it.each(['', 'USA', 'U', 'ZZ', 'EU', '1', 'constructor', 'toString'])('refuses %j', (code) => {
    expect(phoneRegionOf(code)).toBeNull();
  });
});

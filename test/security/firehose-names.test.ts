/**
 * Audience names through the Firehose (issue 11): a name with control characters or bidi controls
 * still works, and is cleaned once at ingest, so the stored name, the status and the X audience
 * name (built from the stored one, core/names.ts downstreamName) carry none of them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downstreamName } from '../../src/core/names.ts';
import { cleanName } from '../../src/core/text.ts';
import { ACCOUNT, fixture, forAccount, startInProcess, type Harness } from '../firehose/helpers.ts';

const load = (name: string) => forAccount(fixture(name), ACCOUNT);
// Everything the cleaning must take out, one of each.
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];
const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i));
const C1 = Array.from({ length: 33 }, (_, i) => String.fromCharCode(0x7f + i));
const UNWANTED = new RegExp(`[${[...BIDI, ...C0, ...C1].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}]`);

describe('cleanName', () => {
  it('drops bidi controls, turns controls into one space, keeps every other character', () => {
    expect(cleanName('Cart\u202e\u2066 buyers\u2069')).toBe('Cart buyers');
    expect(cleanName('Cart\nbuyers\t\u0000 (VIP)\u0085')).toBe('Cart buyers (VIP)');
    expect(cleanName('  Käufer 購入者 🛒 – été  ')).toBe('Käufer 購入者 🛒 – été');
    expect(cleanName('\u0007\u202e\u200f')).toBe('');
    for (const c of [...BIDI, ...C0, ...C1]) expect(cleanName(`a${c}b`), `U+${c.charCodeAt(0).toString(16)}`).not.toMatch(UNWANTED);
  });
});

describe('names through POST /firehose', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startInProcess();
  });
  afterEach(async () => {
    await h.close();
  });

  it('a subscription name with controls and bidi overrides is stored and sent to X cleaned', async () => {
    const msg = { ...load('subscription-add.json'), audience_name: '\u202eAbandoned\u0000 Cart\u2066\n(7 days)\u0085\u200f' };
    expect((await h.post(msg)).status).toBe(200);
    const audience = await h.store.getAudience('7622');
    expect(audience?.name).toBe('Abandoned Cart (7 days)');
    expect(downstreamName(audience!.name, 'email', 1)).toBe('Abandoned Cart (7 days) (email)');

    // An update renames with the cleaned name too; a name of nothing but controls gets the fallback.
    expect((await h.post({ ...load('subscription-update.json'), audience_name: 'Abandoned\u202d Cart' })).status).toBe(200);
    expect((await h.store.getAudience('7622'))?.name).toBe('Abandoned Cart');
    expect((await h.post({ ...load('subscription-update.json'), audience_name: '\u0007\u202e' })).status).toBe(200);
    expect((await h.store.getAudience('7622'))?.name).toBe('mParticle audience 7622');
  });

  it('an audience created by a membership message gets its cleaned name', async () => {
    const msg = load('verification-ping.json');
    msg.user_profiles = [
      {
        mpid: '1',
        user_identities: [{ type: 'email', encoding: 'raw', value: 'a@example.com' }],
        audiences: [{ audience_id: 9, audience_name: '\u2067Buyers\u0009\u0009now\u2069', action: 'add' }],
      },
      {
        mpid: '2',
        user_identities: [{ type: 'email', encoding: 'raw', value: 'b@example.com' }],
        audiences: [{ audience_id: 10, audience_name: '\u202e\u0001', action: 'add' }],
      },
    ];
    expect((await h.post(msg)).status).toBe(200);
    expect((await h.store.getAudience('9'))?.name).toBe('Buyers now');
    expect((await h.store.getAudience('10'))?.name).toBe('mParticle audience 10');
    const all = await h.store.listAudiences();
    for (const a of all) expect(a.name).not.toMatch(UNWANTED);
  });
});

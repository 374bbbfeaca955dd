/**
 * Hashing ceiling: SHA-256 digests per second with Node's crypto alone, next to Tailor's
 * normalize-and-hash (hashIdentity), over the same raw identifiers (e-mails, handles, device ids
 * in equal parts, as users send them: mixed case, stray spaces, a leading @). Phone numbers are
 * measured apart (parsing them with libphonenumber costs far more than a digest), over a tenth as
 * many national and international spellings.
 */
import { createHash } from 'node:crypto';
import { hashIdentity, type IdentityKind } from '../src/identity/index.ts';
import { rawIdentity } from './data.ts';
import { log, timed } from './lib.ts';

export interface HashingResult {
  identifiers: number;
  cryptoPerSecond: number;
  tailorPerSecond: number;
  ratio: number;
  phoneNumbers: number;
  /** Phone numbers parsed, put in E.164 and hashed per second (hashIdentity('phone_number', …)). */
  phonePerSecond: number;
}

export async function hashingBench(count = 1_000_000): Promise<HashingResult> {
  log(`hashing: ${count.toLocaleString('en-US')} identifiers`);
  const kinds: IdentityKind[] = ['email', 'twitter_handle', 'ios_advertising_id'];
  const values = Array.from({ length: count }, (_, i) => ({ kind: kinds[i % 3]!, value: rawIdentity(kinds[i % 3]!, i) }));
  let sink = 0;
  // Warm both paths up (JIT) before timing.
  for (let i = 0; i < 20_000; i++) sink += createHash('sha256').update(values[i]!.value, 'utf8').digest('hex').length;
  for (let i = 0; i < 20_000; i++) sink += hashIdentity(values[i]!.kind, values[i]!.value).ok ? 1 : 0;

  const crypto = await timed(() => {
    for (const v of values) sink += createHash('sha256').update(v.value, 'utf8').digest('hex').length;
  });
  const tailor = await timed(() => {
    for (const v of values) {
      const r = hashIdentity(v.kind, v.value);
      if (!r.ok) throw new Error(`bench data rejected: ${r.reason}`);
      sink += r.hash.length;
    }
  });
  const phoneCount = Math.max(1000, Math.floor(count / 10));
  const phones = Array.from({ length: phoneCount }, (_, i) => rawIdentity('phone_number', i));
  for (let i = 0; i < 2000; i++) sink += hashIdentity('phone_number', phones[i % phoneCount]!).ok ? 1 : 0;
  const phone = await timed(() => {
    for (const v of phones) {
      const r = hashIdentity('phone_number', v);
      if (!r.ok) throw new Error(`bench phone number rejected: ${r.reason}`);
      sink += r.hash.length;
    }
  });
  if (sink === 0) throw new Error('unreachable');
  const cryptoPerSecond = count / crypto.seconds;
  const tailorPerSecond = count / tailor.seconds;
  return {
    identifiers: count,
    cryptoPerSecond,
    tailorPerSecond,
    ratio: tailorPerSecond / cryptoPerSecond,
    phoneNumbers: phoneCount,
    phonePerSecond: phoneCount / phone.seconds,
  };
}

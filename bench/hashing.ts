/**
 * Hashing ceiling: SHA-256 digests per second with Node's crypto alone, next to Tailor's
 * normalize-and-hash (hashIdentity), over the same raw identifiers (e-mails, handles, device ids
 * in equal parts, as users send them: mixed case, stray spaces, a leading @).
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
  if (sink === 0) throw new Error('unreachable');
  const cryptoPerSecond = count / crypto.seconds;
  const tailorPerSecond = count / tailor.seconds;
  return { identifiers: count, cryptoPerSecond, tailorPerSecond, ratio: tailorPerSecond / cryptoPerSecond };
}

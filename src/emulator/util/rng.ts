/**
 * Seeded pseudo-random streams. Everything the emulator invents (account ids, user ids, tokens,
 * the population, fault dice) comes from a named stream of one seed, so the same seed gives the
 * same world, and adding a new stream never shifts the values of another.
 */
import { createHash } from 'node:crypto';

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string): string;
  /** A version-4 UUID, lower-case with dashes, as devices report IDFA and GAID. */
  uuid(): string;
}

export const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** sfc32: small, fast, and good enough for test data; seeded from SHA-256 of seed and stream name. */
export function createRng(seed: number, stream: string): Rng {
  const digest = createHash('sha256').update(`${seed}/${stream}`).digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  const int = (maxExclusive: number): number => Math.floor(next() * maxExclusive);
  return {
    next,
    int,
    string(length, alphabet) {
      let out = '';
      for (let i = 0; i < length; i++) out += alphabet.charAt(int(alphabet.length));
      return out;
    },
    uuid() {
      const bytes = Buffer.alloc(16);
      for (let i = 0; i < 16; i += 4) bytes.writeUInt32LE(nextUint32(), i);
      bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
      bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
      const hex = bytes.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };
}

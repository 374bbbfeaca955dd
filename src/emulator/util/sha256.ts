import { createHash } from 'node:crypto';

/** SHA-256 of the UTF-8 bytes of `value`, lower-case hex: the only digest X's audience matcher reads. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** 64 lower-case hex characters. Upper-case hex is rejected, as X's docs call it wrong. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

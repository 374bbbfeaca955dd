import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of a presented secret with the expected one (hashed to equal lengths). */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The credential of an `Authorization: <scheme> <credential>` header, or null. */
export function credential(header: string | undefined, scheme: 'Bearer' | 'Token'): string | null {
  if (!header) return null;
  const [given, value] = header.split(' ', 2);
  if (!given || value === undefined || given.toLowerCase() !== scheme.toLowerCase()) return null;
  return value.trim();
}

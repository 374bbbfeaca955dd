import { describe, expect, it } from 'vitest';
import { isLoopback } from './loopback-only.ts';

describe('tests reach loopback only', () => {
  it('refuses a connection to a non-loopback address before any packet leaves', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, so nothing leaves even if the guard failed.
    await expect(fetch('http://192.0.2.1:8081/')).rejects.toThrow();
    const err = (await fetch('http://192.0.2.1:8081/').catch((e: unknown) => e)) as Error & { cause?: Error };
    expect(err.cause?.message ?? err.message).toContain('Tests may only reach loopback');
  });

  it('lets loopback through', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.5.6.7', undefined]) expect(isLoopback(host)).toBe(true);
    for (const host of ['10.0.0.1', 'example.com', '192.168.1.1', '::ffff:10.0.0.1']) expect(isLoopback(host)).toBe(false);
  });
});

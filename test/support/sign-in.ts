/** Signs a browser in to an in-process app, as the sign-in form does; returns its session cookie. */
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

export async function signInCookie(app: FastifyInstance, adminToken: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${adminToken}`,
  });
  expect(res.statusCode).toBe(303);
  return String(res.headers['set-cookie']).split(';')[0]!;
}

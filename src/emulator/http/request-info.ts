/** What the OAuth verifier and the request log need to know about an incoming request. */
import type { FastifyRequest } from 'fastify';
import type { AuthRequest } from '../oauth/authenticate.ts';
import type { Pair } from '../oauth/signature.ts';
import { formPairsOf } from './body.ts';

export function pathOf(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  return q === -1 ? rawUrl : rawUrl.slice(0, q);
}

/** Query pairs in order; "+" is a space, as in a form body (RFC 5849 3.4.1.3.1). */
export function queryPairs(rawUrl: string): Pair[] {
  const q = rawUrl.indexOf('?');
  if (q === -1) return [];
  return [...new URLSearchParams(rawUrl.slice(q + 1))].map(([k, v]) => [k, v] as const);
}

/**
 * The base string URI (RFC 5849 3.4.1.2): scheme and host lower-case, default port dropped, path
 * as sent. The emulator speaks plain HTTP; behind a TLS proxy, X-Forwarded-Proto says https.
 */
export function signatureBaseUrl(request: FastifyRequest): string {
  const scheme = String(request.headers['x-forwarded-proto'] ?? '').toLowerCase() === 'https' ? 'https' : 'http';
  let host = String(request.headers.host ?? '').toLowerCase();
  if ((scheme === 'http' && host.endsWith(':80')) || (scheme === 'https' && host.endsWith(':443'))) {
    host = host.slice(0, host.lastIndexOf(':'));
  }
  return `${scheme}://${host}${pathOf(request.raw.url ?? '/')}`;
}

export function authRequestOf(request: FastifyRequest): AuthRequest {
  const authorization = request.headers.authorization;
  return {
    method: request.method,
    baseUrl: signatureBaseUrl(request),
    authorization: typeof authorization === 'string' ? authorization : undefined,
    query: queryPairs(request.raw.url ?? '/'),
    form: formPairsOf(request.body),
  };
}

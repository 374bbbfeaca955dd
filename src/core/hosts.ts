/**
 * Host names as they appear in TAILOR_HOST, TAILOR_ALLOWED_HOSTS and `Host` headers; pure, shared
 * by the config (validation) and the server's Host check (src/server/hosts.ts).
 */
import { isIP } from 'node:net';

/**
 * A host name, IPv4 or bracketed IPv6, lower-case, without port. Underscores are not in the DNS
 * grammar but are in Docker Compose service names, which containers use as Host.
 */
const NAME = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*|\[[0-9a-f:.]+\])$/;

/** Whether a listen address (TAILOR_HOST) is loopback only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** A valid TAILOR_ALLOWED_HOSTS entry: a bare name (no scheme, port or path). */
export function isHostName(name: string): boolean {
  return NAME.test(name.toLowerCase());
}

/** The name of a Host header or of an absolute-form target's authority, or null when malformed. */
export function hostName(authority: string | undefined): string | null {
  if (authority === undefined) return null;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(authority);
  if (!m) return null;
  const name = m[1]!.toLowerCase();
  return NAME.test(name) ? name : null;
}

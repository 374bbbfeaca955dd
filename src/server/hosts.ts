/**
 * The `Host` names Tailor answers to on the UI and /api/v1, against DNS rebinding: a page on
 * evil.example whose name is made to resolve to Tailor's address is same-origin with it in the
 * browser, but its requests still say `Host: evil.example`, which is refused (421).
 *
 * Allowed: the host of TAILOR_PUBLIC_URL, TAILOR_ALLOWED_HOSTS, the listen address, and, when
 * listening on loopback (or every interface), `localhost`, `127.0.0.1` and `[::1]`. Any port:
 * rebinding is about the name, and a proxy may forward Tailor under another port. When listening
 * on every interface (`0.0.0.0`, `::`), any IP literal too: the address a client dialled may be
 * any of the machine's, or a NAT's in front of it, and an IP literal cannot be rebound (its
 * origin is the address itself).
 */
import { isIP } from 'node:net';
import { hostName, isLoopbackHost } from '../core/hosts.ts';

/** Whether a listen address is every interface. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** `[::1]` for `::1`, the name otherwise: how a listen address appears in a Host header. */
function asHostHeaderName(host: string): string {
  const h = host.toLowerCase();
  return isIP(h) === 6 ? `[${h}]` : h;
}

export interface HostOptions {
  /** TAILOR_HOST: where the server listens. */
  listenHost: string;
  publicUrl: string | null;
  allowedHosts: readonly string[];
}

export class AllowedHosts {
  private readonly names = new Set<string>();
  private readonly anyIpLiteral: boolean;

  constructor(o: HostOptions) {
    if (o.publicUrl !== null) this.names.add(new URL(o.publicUrl).hostname.toLowerCase());
    for (const name of o.allowedHosts) this.names.add(name.toLowerCase());
    this.anyIpLiteral = isWildcard(o.listenHost);
    // Every interface includes loopback; and `localhost` is no name an attacker can point anywhere.
    if (isLoopbackHost(o.listenHost) || this.anyIpLiteral) for (const name of ['localhost', '127.0.0.1', '[::1]']) this.names.add(name);
    if (!this.anyIpLiteral) this.names.add(asHostHeaderName(o.listenHost));
  }

  /**
   * Whether a request is addressed to Tailor. For an absolute-form target
   * (`GET http://name/path HTTP/1.1`) the target's authority is the host and the Host header is
   * ignored (RFC 9112, section 3.2.2); both are checked here, so neither can smuggle a name past.
   */
  allows(hostHeader: string | undefined, target: string): boolean {
    const names: (string | null)[] = [hostName(hostHeader)];
    if (!target.startsWith('/')) names.push(authorityOf(target));
    return names.every((n) => n !== null && this.allowsName(n));
  }

  private allowsName(name: string): boolean {
    if (this.names.has(name)) return true;
    return this.anyIpLiteral && (isIP(name) === 4 || (name.startsWith('[') && isIP(name.slice(1, -1)) === 6));
  }
}

/** The authority of an absolute-form request target, or null (`*` and garbage included). */
function authorityOf(target: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
  if (!m) return null;
  const authority = m[1]!;
  return authority.includes('@') ? null : hostName(authority);
}

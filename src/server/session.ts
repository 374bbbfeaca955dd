/**
 * The web UI's session: an HMAC-signed cookie naming a session the database knows, and the sealed
 * (encrypted) cookie that carries the X login between the popup's steps.
 *
 * - Keys are derived (HKDF) from TAILOR_ADMIN_TOKEN, the secret the user signs in with.
 * - The session cookie is HttpOnly, SameSite=Strict, Path=/; it holds a random session id and an
 *   expiry, signed. The database holds the session too (`ui_sessions`, with its expiry), keyed by
 *   HMAC(key, session id): never the id or the cookie, so a copy of the database signs no one in.
 *   A session counts only while both hold: sign-out deletes the row, which ends the session on
 *   every `tailor serve` process at once, and it expires after SESSION_TTL_MS.
 * - Rotating the admin token ends every session twice over: old cookies fail the signature, and
 *   their rows are keyed under the old token's key, so no lookup can reach them (they are pruned
 *   at expiry).
 * - CSRF: the token is HMAC(key, session id). Pages carry it (a meta tag, a hidden form field);
 *   every state-changing request must send it back (the `x-csrf-token` header for fetch, the
 *   `csrf` field for forms) and the server checks it in constant time. A cross-site page can
 *   neither read it nor set the header without a CORS preflight, which Tailor never answers.
 *   It is worth nothing once its session has ended.
 * - Single-use steps (the X login's): `useOnce` records a keyed hash of the step in the database,
 *   so a step is accepted once across every process.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionStore } from '../store/port.ts';
import { secretsEqual } from '../http/auth.ts';
import { hostName } from '../core/hosts.ts';

export const SESSION_COOKIE = 'tailor_session';
export const CSRF_HEADER = 'x-csrf-token';
/** A working day: long enough not to nag, short enough that a forgotten laptop signs itself out. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  sid: string;
  expiresAt: number;
}

export interface CookieOptions {
  maxAgeS: number;
  path: string;
  sameSite: 'Strict' | 'Lax';
  secure: boolean;
}

const b64u = (b: Buffer): string => b.toString('base64url');

function derive(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'tailor-ui', purpose, 32));
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Parses a Cookie header; the first value of a repeated name wins, as browsers send the most specific first. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  return [`${name}=${value}`, `Path=${o.path}`, `Max-Age=${o.maxAgeS}`, 'HttpOnly', `SameSite=${o.sameSite}`, ...(o.secure ? ['Secure'] : [])].join('; ');
}

export class SessionKeys {
  private readonly signKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly sealKey: Buffer;
  private readonly idKey: Buffer;
  private readonly onceKey: Buffer;

  constructor(
    private readonly adminToken: string,
    private readonly store: SessionStore,
    private readonly now: () => number = Date.now,
  ) {
    this.signKey = derive(adminToken, 'session-v1');
    this.csrfKey = derive(adminToken, 'csrf-v1');
    this.sealKey = derive(adminToken, 'seal-v1');
    this.idKey = derive(adminToken, 'session-id-v1');
    this.onceKey = derive(adminToken, 'once-v1');
  }

  /** True when the presented token is the admin token (constant time). */
  checkAdminToken(presented: string): boolean {
    return this.adminToken.length > 0 && secretsEqual(presented, this.adminToken);
  }

  /** A new session, recorded in the database, and its cookie value. */
  async issue(): Promise<{ session: Session; value: string }> {
    const now = this.now();
    const session: Session = { sid: b64u(randomBytes(18)), expiresAt: now + SESSION_TTL_MS };
    await this.store.putSession(this.idHash(session.sid), session.expiresAt, now);
    const payload = `${session.sid}.${session.expiresAt.toString(36)}`;
    return { session, value: `${payload}.${this.sign(payload)}` };
  }

  /** The session of a request, when its cookie is present, authentic and not expired, and the session not ended. */
  async read(req: FastifyRequest): Promise<Session | null> {
    const value = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (!value) return null;
    const parts = value.split('.');
    if (parts.length !== 3) return null;
    const [sid, exp, mac] = parts as [string, string, string];
    // The signature first: a forged cookie costs no database read.
    if (!equalBytes(Buffer.from(mac), Buffer.from(this.sign(`${sid}.${exp}`)))) return null;
    const expiresAt = parseInt(exp, 36);
    if (!Number.isFinite(expiresAt) || expiresAt <= this.now()) return null;
    if (!(await this.alive(sid))) return null;
    return { sid, expiresAt };
  }

  /** Whether the session with this id is still recorded and unexpired (it may be read from a flow cookie). */
  async alive(sid: string): Promise<boolean> {
    return (await this.store.getSession(this.idHash(sid), this.now())) !== null;
  }

  /** Ends a session on every process (sign-out). */
  async end(session: Session): Promise<void> {
    await this.store.deleteSession(this.idHash(session.sid));
  }

  /**
   * True the first time (`purpose`, `value`) is presented before `expiresAt`, on any process;
   * false for every later presentation. The database sees only a keyed hash of the pair.
   */
  async useOnce(purpose: string, value: string, expiresAt: number): Promise<boolean> {
    const key = b64u(createHmac('sha256', this.onceKey).update(`${purpose}\n${value}`).digest());
    return this.store.useOnce(key, expiresAt, this.now());
  }

  csrfToken(session: Session): string {
    return b64u(createHmac('sha256', this.csrfKey).update(session.sid).digest());
  }

  checkCsrf(session: Session, presented: unknown): boolean {
    if (typeof presented !== 'string' || presented.length === 0) return false;
    return equalBytes(Buffer.from(presented), Buffer.from(this.csrfToken(session)));
  }

  /**
   * Whether a browser request to /api/v1 may pass on its session: a valid session, plus the CSRF
   * header for anything but GET/HEAD. (The Bearer token path is checked before this, unchanged.)
   */
  async allowsApi(req: FastifyRequest): Promise<boolean> {
    const session = await this.read(req);
    if (!session) return false;
    if (req.method === 'GET' || req.method === 'HEAD') return true;
    return this.checkCsrf(session, req.headers[CSRF_HEADER]);
  }

  /** Encrypts and authenticates a small JSON value for a cookie; `purpose` must match on open. */
  seal(purpose: string, value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return `${b64u(iv)}.${b64u(cipher.getAuthTag())}.${b64u(body)}`;
  }

  /** The sealed value, or null when it is missing, tampered with or sealed for another purpose. */
  open(purpose: string, sealed: string | undefined): unknown {
    if (!sealed) return null;
    const [iv, tag, body] = sealed.split('.');
    if (!iv || !tag || body === undefined) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      return JSON.parse(plain) as unknown;
    } catch {
      return null;
    }
  }

  /** The session's key in the database: keyed, so it depends on the admin token, and one-way. */
  private idHash(sid: string): string {
    return b64u(createHmac('sha256', this.idKey).update(sid).digest());
  }

  private sign(payload: string): string {
    return b64u(createHmac('sha256', this.signKey).update(payload).digest());
  }
}

/** Sets the session cookie on a reply. */
export function setSessionCookie(reply: FastifyReply, value: string, secure: boolean): void {
  appendCookie(reply, serializeCookie(SESSION_COOKIE, value, { maxAgeS: Math.floor(SESSION_TTL_MS / 1000), path: '/', sameSite: 'Strict', secure }));
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  appendCookie(reply, serializeCookie(SESSION_COOKIE, '', { maxAgeS: 0, path: '/', sameSite: 'Strict', secure }));
}

/** Adds a Set-Cookie header, keeping any set before. */
export function appendCookie(reply: FastifyReply, cookie: string): void {
  const prior = reply.getHeader('set-cookie');
  const list = prior === undefined ? [] : Array.isArray(prior) ? prior.map(String) : [String(prior)];
  reply.header('set-cookie', [...list, cookie]);
}

/**
 * The origin browsers use to reach Tailor: TAILOR_PUBLIC_URL when set (behind a proxy or TLS
 * terminator), else the scheme and Host header of the request, when the Host is well formed.
 * The X login's callback URL is built from it. A forged Host cannot send a victim anywhere: the
 * routes that use it require a session cookie, which the browser sends only to the real host.
 */
export function originOf(req: FastifyRequest, publicUrl: string | null): string | null {
  if (publicUrl !== null) return new URL(publicUrl).origin;
  const host = req.headers.host;
  // The same grammar as the Host check (core/hosts.ts): a name, IPv4 or bracketed IPv6, a port.
  if (typeof host !== 'string' || hostName(host) === null) return null;
  return `${req.protocol}://${host}`;
}

/**
 * A state-changing form post must come from Tailor's own pages: browsers send Origin on every
 * POST, and a cross-site page cannot forge it. (Requests without Origin, from old clients or
 * tools, still need the CSRF token.)
 */
export function sameOrigin(req: FastifyRequest, publicUrl: string | null): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const own = originOf(req, publicUrl);
  return own !== null && (origin === own || origin === `${req.protocol}://${req.headers.host ?? ''}`);
}

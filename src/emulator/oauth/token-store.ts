/**
 * OAuth tokens X has issued: request tokens (step 1 of the three-legged flow, short-lived, used
 * once) and access tokens (do not expire, docs/reference/x-ads-api.md 9.1; revocable through the faults).
 * Revocation is kept apart from the tokens so that a test can revoke any token string, seeded
 * or issued, and restore it later.
 */
import { ALPHANUMERIC, type Rng } from '../util/rng.ts';

export interface RequestToken {
  kind: 'request';
  token: string;
  secret: string;
  callback: string;
  createdAt: number;
  /** Set when the person clicks Authorize. */
  authorizedUserId?: string;
  verifier?: string;
}

export interface AccessToken {
  kind: 'access';
  token: string;
  secret: string;
  userId: string;
}

export type TokenRecord = RequestToken | AccessToken;

/** X's request tokens live for minutes; 15 is generous for a person on the authorize page. */
export const REQUEST_TOKEN_TTL_MS = 15 * 60_000;

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly revoked = new Set<string>();

  constructor(private readonly rng: Rng) {}

  addAccessToken(token: string, secret: string, userId: string): AccessToken {
    const record: AccessToken = { kind: 'access', token, secret, userId };
    this.tokens.set(token, record);
    return record;
  }

  issueRequestToken(callback: string, now: number): RequestToken {
    const record: RequestToken = {
      kind: 'request',
      token: this.rng.string(27, ALPHANUMERIC),
      secret: this.rng.string(32, ALPHANUMERIC),
      callback,
      createdAt: now,
    };
    this.tokens.set(record.token, record);
    return record;
  }

  /** Each access_token call issues a fresh pair, as X does. */
  issueAccessToken(userId: string): AccessToken {
    return this.addAccessToken(`${userId}-${this.rng.string(40, ALPHANUMERIC)}`, this.rng.string(45, ALPHANUMERIC), userId);
  }

  newVerifier(): string {
    return this.rng.string(32, ALPHANUMERIC);
  }

  get(token: string, now: number): TokenRecord | undefined {
    const record = this.tokens.get(token);
    if (record?.kind === 'request' && now - record.createdAt > REQUEST_TOKEN_TTL_MS) {
      this.tokens.delete(token);
      return undefined;
    }
    return record;
  }

  /** A request token is good for one access_token exchange (or one Cancel). */
  discard(token: string): void {
    this.tokens.delete(token);
  }

  isRevoked(token: string): boolean {
    return this.revoked.has(token);
  }

  revoke(token: string): void {
    this.revoked.add(token);
  }

  restore(token: string): void {
    this.revoked.delete(token);
  }

  restoreAll(): void {
    this.revoked.clear();
  }

  revokedTokens(): string[] {
    return [...this.revoked].sort();
  }
}

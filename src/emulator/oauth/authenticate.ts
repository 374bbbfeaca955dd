/**
 * Verifies one OAuth 1.0a request, as X's server does (docs/reference/x-ads-api.md 9.1, 9.2; RFC 5849 3.2).
 * Checks run in a fixed order and the first failure wins; every failure is the same 401 to the
 * caller, and the reason travels in a diagnostic header for humans and tests.
 */
import { parseOAuthHeader } from './authorization-header.ts';
import type { NonceCache } from './nonce-cache.ts';
import { hmacSha1Signature, type Pair, signatureBaseString, signaturesMatch } from './signature.ts';
import type { TokenRecord, TokenStore } from './token-store.ts';

/** What the request is signed with: the consumer alone, a request token, or an access token. */
export type AuthMode = 'consumer' | 'request' | 'access';

export type AuthFailure =
  | 'missing_authorization'
  | 'malformed_authorization'
  | 'missing_oauth_parameter'
  | 'unsupported_signature_method'
  | 'unsupported_version'
  | 'unknown_consumer'
  | 'stale_timestamp'
  | 'unknown_token'
  | 'bad_signature'
  | 'reused_nonce'
  | 'revoked_token';

export interface AuthRequest {
  method: string;
  /** scheme://host[:port]/path as the client addressed it, without the query. */
  baseUrl: string;
  authorization: string | undefined;
  query: readonly Pair[];
  form: readonly Pair[];
}

export type AuthResult = { ok: true; protocol: Map<string, string>; token: TokenRecord | undefined } | { ok: false; reason: AuthFailure };

export interface AuthDeps {
  consumerKey: string;
  consumerSecret: string;
  tokens: TokenStore;
  nonces: NonceCache;
  /** Half-width of the accepted clock skew. */
  timestampWindowMs: number;
  /** X's wall clock minus this machine's (POST /_emulator/config `clock_skew_ms`): timestamps are judged against now plus this. */
  clockSkewMs?: number;
}

const REQUIRED = ['oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp'];

export function authenticate(deps: AuthDeps, req: AuthRequest, mode: AuthMode, now: number): AuthResult {
  const gathered = gatherProtocolParams(req);
  if (!gathered.ok) return gathered;
  const { protocol, candidates } = gathered;

  const required = mode === 'consumer' ? REQUIRED : [...REQUIRED, 'oauth_token'];
  if (required.some((k) => !protocol.has(k))) return { ok: false, reason: 'missing_oauth_parameter' };
  if (protocol.get('oauth_signature_method') !== 'HMAC-SHA1') return { ok: false, reason: 'unsupported_signature_method' };
  const version = protocol.get('oauth_version');
  if (version !== undefined && version !== '1.0') return { ok: false, reason: 'unsupported_version' };
  if (protocol.get('oauth_consumer_key') !== deps.consumerKey) return { ok: false, reason: 'unknown_consumer' };

  const timestamp = protocol.get('oauth_timestamp') ?? '';
  const timestampMs = Number(timestamp) * 1000;
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now + (deps.clockSkewMs ?? 0) - timestampMs) > deps.timestampWindowMs) {
    return { ok: false, reason: 'stale_timestamp' };
  }

  let token: TokenRecord | undefined;
  if (mode !== 'consumer') {
    token = deps.tokens.get(protocol.get('oauth_token') ?? '', now);
    if (token === undefined || token.kind !== mode) return { ok: false, reason: 'unknown_token' };
  }

  const given = protocol.get('oauth_signature') ?? '';
  const signed = candidates.some((pairs) =>
    signaturesMatch(hmacSha1Signature(signatureBaseString(req.method, req.baseUrl, pairs), deps.consumerSecret, token?.secret ?? ''), given),
  );
  if (!signed) return { ok: false, reason: 'bad_signature' };

  // Remembered only once the signature holds, so a forger cannot burn someone else's nonces.
  if (!deps.nonces.remember(deps.consumerKey, protocol.get('oauth_nonce') ?? '', timestampMs, now)) {
    return { ok: false, reason: 'reused_nonce' };
  }
  if (token !== undefined && deps.tokens.isRevoked(token.token)) return { ok: false, reason: 'revoked_token' };
  return { ok: true, protocol, token };
}

/** `candidates`: the signed parameter sets a correct signature may have been computed over. */
type Gathered = { ok: true; protocol: Map<string, string>; candidates: Pair[][] } | { ok: false; reason: AuthFailure };

/**
 * Protocol parameters come from the Authorization header; without one, from the query or form
 * body (RFC 5849 3.5.2, 3.5.3). The signed set is every query and form pair plus the header's
 * protocol parameters, minus oauth_signature.
 */
function gatherProtocolParams(req: AuthRequest): Gathered {
  const fromRequest: Pair[] = [...req.query, ...req.form];
  const protocol = new Map<string, string>();
  const signedPairs: Pair[] = fromRequest.filter(([k]) => k !== 'oauth_signature');
  if (req.authorization !== undefined && /^OAuth\s/i.test(req.authorization.trim())) {
    const parsed = parseOAuthHeader(req.authorization);
    if (!parsed.ok) return { ok: false, reason: 'malformed_authorization' };
    let duplicates = false;
    for (const [k, v] of parsed.params) {
      protocol.set(k, v);
      if (k === 'oauth_signature') continue;
      signedPairs.push([k, v]);
      duplicates ||= fromRequest.some(([rk, rv]) => rk === k && rv === v);
    }
    // Some signers (oauth-1.0a among them) copy oauth_callback or oauth_verifier into the header
    // while the client also sends it in the body, and sign it once; RFC 5849 counts it twice.
    // Both readings are accepted.
    const once = duplicates
      ? signedPairs.filter(([k, v], i) => !(k.startsWith('oauth_') && signedPairs.findIndex(([k2, v2]) => k2 === k && v2 === v) !== i))
      : undefined;
    // Parameters such as oauth_callback or oauth_verifier may ride in the query or body instead.
    for (const [k, v] of fromRequest) if (k.startsWith('oauth_') && !protocol.has(k)) protocol.set(k, v);
    return { ok: true, protocol, candidates: once ? [signedPairs, once] : [signedPairs] };
  }
  if (req.authorization !== undefined && req.authorization.trim() !== '') {
    return { ok: false, reason: 'malformed_authorization' };
  }
  for (const [k, v] of fromRequest) {
    if (!k.startsWith('oauth_')) continue;
    if (protocol.has(k)) return { ok: false, reason: 'malformed_authorization' };
    protocol.set(k, v);
  }
  if (!protocol.has('oauth_signature')) return { ok: false, reason: 'missing_authorization' };
  return { ok: true, protocol, candidates: [signedPairs] };
}

/**
 * OAuth 1.0a HMAC-SHA1 request signing (RFC 5849 section 3.4, as X documents it in "Creating a
 * signature"). Written here rather than taken from the `oauth-1.0a` package on purpose: the
 * emulator's tests verify with that package, and a shared bug would then pass both sides.
 *
 * Only query and form parameters enter the signature. JSON bodies (the `users` endpoint) do not:
 * they are not form parameters (RFC 5849 section 3.4.1.3.1), and that is what X's SDKs do.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** A parameter as sent; duplicate keys are allowed by the RFC (X itself rejects them). */
export type Param = readonly [key: string, value: string];

export interface OAuthCredentials {
  key: string;
  secret: string;
}

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes: everything but `A-Z a-z 0-9 - . _ ~` is encoded,
 * with upper-case hex. `encodeURIComponent` also leaves `! ' ( ) *` alone, so those are finished
 * by hand. A lone surrogate throws `URIError`: it has no UTF-8 form, so X could not read it either.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `scheme://host[:port]/path`, lower-case scheme and host, no default port, no query (3.4.1.2). */
export function baseStringUri(url: URL): string {
  // URL already lower-cases scheme and host and drops :80 / :443 for http / https.
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The normalized parameter string (3.4.1.3.2): encode each key and value, sort, join. */
export function parameterString(params: readonly Param[]): string {
  const encoded = params.map(([k, v]) => [percentEncode(k), percentEncode(v)] as const);
  // Encoded strings are ASCII, so code-unit order is the byte order the RFC asks for.
  encoded.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  return encoded.map(([k, v]) => `${k}=${v}`).join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Query parameters of a URL, decoded as `application/x-www-form-urlencoded` (3.4.1.3.1). */
export function queryParams(url: URL): Param[] {
  return [...url.searchParams.entries()];
}

/** Parameters of a form body (`application/x-www-form-urlencoded`). */
export function formParams(body: string): Param[] {
  return [...new URLSearchParams(body).entries()];
}

/**
 * The signature base string: `METHOD&pct(base URI)&pct(parameter string)`. `params` are the
 * form-body and `oauth_*` parameters; the URL's own query parameters are added here.
 */
export function signatureBaseString(method: string, url: string | URL, params: readonly Param[]): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  const all = [...queryParams(u), ...params];
  return [method.toUpperCase(), percentEncode(baseStringUri(u)), percentEncode(parameterString(all))].join('&');
}

/** base64(HMAC-SHA1(pct(consumerSecret) & pct(tokenSecret), baseString)) (3.4.2). */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret = ''): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString, 'utf8').digest('base64');
}

/** `OAuth k1="v1", k2="v2", …` with keys and values percent-encoded, sorted by key. */
export function authorizationHeader(oauthParams: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(oauthParams)
    .sort(([a], [b]) => compare(a, b))
    .map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`);
  return `OAuth ${pairs.join(', ')}`;
}

export interface SignInput {
  method: string;
  /** The full URL as it will be requested, query included. */
  url: string | URL;
  consumer: OAuthCredentials;
  /** Absent for `request_token`, which is signed with the consumer only. */
  token?: OAuthCredentials;
  /** Form-body parameters, if the request has a form body. Never a JSON body. */
  form?: readonly Param[];
  /** Extra protocol parameters for the header, e.g. `oauth_callback`. */
  extraOAuth?: Readonly<Record<string, string>>;
  /** Fixed for test vectors; random otherwise. */
  nonce?: string;
  /** Epoch seconds; fixed for test vectors, the clock otherwise. */
  timestamp?: number;
}

export interface Signed {
  /** The `Authorization` header value. */
  authorization: string;
  signature: string;
  baseString: string;
  /** The `oauth_*` parameters sent in the header, signature included. */
  oauthParams: Record<string, string>;
}

/** Signs one request. */
export function signRequest(input: SignInput): Signed {
  const oauthParams: Record<string, string> = {
    ...input.extraOAuth,
    oauth_consumer_key: input.consumer.key,
    // 32 hex characters: unique per request and plain ASCII, as X asks.
    oauth_nonce: input.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(input.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: '1.0',
  };
  if (input.token) oauthParams.oauth_token = input.token.key;
  const baseString = signatureBaseString(input.method, input.url, [...(input.form ?? []), ...Object.entries(oauthParams)]);
  const signature = hmacSha1Signature(baseString, input.consumer.secret, input.token?.secret ?? '');
  oauthParams.oauth_signature = signature;
  return { authorization: authorizationHeader(oauthParams), signature, baseString, oauthParams };
}

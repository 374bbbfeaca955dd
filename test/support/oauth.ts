/**
 * The one OAuth 1.0a signer of the tests: the independent `oauth-1.0a` package with HMAC-SHA1 from
 * node:crypto, never Tailor's signer (src/x/oauth.ts) nor the emulator's, so a test that signs with
 * it checks them against a third implementation.
 */
import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';

export interface SignerOptions {
  /** A fixed nonce (replay tests); a random one when absent. */
  nonce?: string;
  /** Fixed epoch seconds to sign with (clock-skew tests); now when absent. */
  timestamp?: number;
}

/** A signer for the app `consumer` (key and secret). */
export function testSigner(consumer: { key: string; secret: string }, opts: SignerOptions = {}): OAuth {
  const oauth = new OAuth({
    consumer,
    signature_method: 'HMAC-SHA1',
    hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
  });
  if (opts.nonce !== undefined) {
    const nonce = opts.nonce;
    oauth.getNonce = () => nonce;
  }
  if (opts.timestamp !== undefined) {
    const timestamp = opts.timestamp;
    oauth.getTimeStamp = () => timestamp;
  }
  return oauth;
}

/** The `Authorization` header of one signed request; `data` are the signed form parameters. */
export function authorization(
  consumer: { key: string; secret: string },
  token: { key: string; secret: string } | undefined,
  request: { method: string; url: string; data?: Record<string, string> },
  opts: SignerOptions = {},
): string {
  const oauth = testSigner(consumer, opts);
  return oauth.toHeader(oauth.authorize({ url: request.url, method: request.method, data: request.data ?? {} }, token)).Authorization;
}

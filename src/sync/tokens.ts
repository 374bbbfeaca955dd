import type { SecretBox } from '../core/secret-box.ts';
import type { XUserTokens } from '../x/types.ts';

/** Seals a configuration's OAuth tokens for the store, and opens them for the X client. */
export function sealTokens(box: SecretBox, tokens: XUserTokens): string {
  return box.seal(JSON.stringify({ t: tokens.accessToken, s: tokens.accessTokenSecret }));
}

export function openTokens(box: SecretBox, sealed: string): XUserTokens {
  const { t, s } = JSON.parse(box.open(sealed)) as { t: string; s: string };
  return { accessToken: t, accessTokenSecret: s };
}

/**
 * RFC 3986 percent-encoding as OAuth 1.0a requires (RFC 5849 3.6): everything but
 * A-Z a-z 0-9 - . _ ~ is encoded, hex digits upper-case. encodeURIComponent leaves ! ' ( ) *
 * alone, so those are encoded by hand.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Decodes %XX sequences; undefined when the sequence is malformed. */
export function percentDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * Parses `Authorization: OAuth k1="v1", k2="v2"` (RFC 5849 3.5.1). Keys and values arrive
 * percent-encoded; `realm` is not a protocol parameter and is dropped.
 */
import { percentDecode } from './percent-encode.ts';

export type HeaderParse = { ok: true; params: Map<string, string> } | { ok: false };

const PAIR = /^\s*([^=\s]+)\s*=\s*"([^"]*)"\s*$/;

export function parseOAuthHeader(header: string): HeaderParse {
  const match = /^OAuth\s+(.*)$/is.exec(header.trim());
  if (!match) return { ok: false };
  const params = new Map<string, string>();
  for (const part of (match[1] ?? '').split(',')) {
    if (part.trim() === '') continue;
    const m = PAIR.exec(part);
    if (!m) return { ok: false };
    const key = percentDecode(m[1] ?? '');
    const value = percentDecode(m[2] ?? '');
    // A protocol parameter given twice is ambiguous; X does not accept duplicate keys.
    if (key === undefined || value === undefined || params.has(key)) return { ok: false };
    if (key !== 'realm') params.set(key, value);
  }
  return { ok: true, params };
}

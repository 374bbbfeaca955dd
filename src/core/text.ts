/**
 * Checks on text that comes from outside (REST bodies, Firehose messages, import files). Each
 * answers why a string is refused, or null, and the answer never quotes the string: it names the
 * character by code point and its position, so a reason can go into a 400 or a log line safely.
 */

// With the `u` flag a surrogate pair is one code point, so only lone surrogates match.
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;
// C0 controls (NUL included), DEL and C1 controls: matching them is the point.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/u;
// Bidi embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069), and the marks LRM,
// RLM and ALM: invisible, they make a name read differently from what it holds ("Trojan Source").
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_BIDI = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/gu;

const codePoint = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Where the first match of `re` is, as "U+202E at position 4" (1-based, in UTF-16 units). */
function located(value: string, re: RegExp): string {
  const m = re.exec(value)!;
  return `${codePoint(m[0])} at position ${m.index + 1}`;
}

/**
 * Why `value` cannot be an identifier (an e-mail, handle, device id, user id), or null. An
 * identifier must be a string of Unicode scalar values without NUL. U+FFFD is refused as well: it
 * is what a decoder puts in place of bytes that were not UTF-8 (an import file in Latin-1, a body
 * damaged on the way), and a hash of the damaged value would match nobody on X.
 */
export function identifierTextProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return `is not valid Unicode (a lone surrogate, ${located(value, LONE_SURROGATE)})`;
  const nul = value.indexOf('\u0000');
  if (nul !== -1) return `holds a NUL character (at position ${nul + 1})`;
  const replacement = value.indexOf('\uFFFD');
  if (replacement !== -1) return `holds U+FFFD (at position ${replacement + 1}), which stands for bytes that were not valid UTF-8`;
  return null;
}

/**
 * Why `value` cannot be a name Tailor shows and sends to X (an audience or configuration name),
 * or null: control characters (C0, DEL, C1) and bidi overrides, isolates and marks are refused,
 * and so is text that is not valid Unicode.
 */
export function nameTextProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return `is not valid Unicode (a lone surrogate, ${located(value, LONE_SURROGATE)})`;
  if (CONTROL.test(value)) return `must not hold control characters (${located(value, CONTROL)})`;
  if (BIDI.test(value)) return `must not hold bidirectional override, isolate or mark characters (${located(value, BIDI)})`;
  return null;
}

/**
 * A name from a source that cannot be asked again (mParticle sends the audience name it has):
 * control characters become spaces, bidi controls are dropped, lone surrogates become U+FFFD,
 * and runs of spaces collapse. The result passes `nameTextProblem`.
 */
export function cleanName(value: string): string {
  return value
    .replace(LONE_SURROGATES, '\uFFFD')
    .replace(CONTROL_OR_BIDI, (c) => (BIDI.test(c) ? '' : ' '))
    .replace(/ {2,}/g, ' ')
    .trim();
}

/**
 * Phone numbers → E.164, the form hashed for X's `phone_number` key. Parsed with libphonenumber-js
 * and its full metadata (`/max`), so a number must be valid for its region, not only of a possible
 * length. The E.164 string keeps its leading `+`: X's audience docs do not say which form the
 * matcher expects; X's Conversions API docs hash E.164 with the `+` (sha256("+11234567890") =
 * 1fa6b8…4231, docs/reference/x-ads-api.md 5.3), and that is the one assumption Tailor makes.
 */
import { createRequire } from 'node:module';
import type { CountryCode } from 'libphonenumber-js/max';

type PhoneLib = typeof import('libphonenumber-js/max');
let lib: PhoneLib | null = null;

/**
 * The library with its full metadata is about 90 modules and a sixth of Tailor's start-up, and
 * most installs never see a phone number, so it is loaded when first needed: synchronously here
 * (its CommonJS build) if a number comes before `loadPhoneNumbers` has finished.
 */
function phones(): PhoneLib {
  return (lib ??= createRequire(import.meta.url)('libphonenumber-js/max') as PhoneLib);
}

/** Loads the library in the background (called once a server is listening), so the first number does not wait for it. */
export async function loadPhoneNumbers(): Promise<void> {
  if (lib) return;
  const loaded = await import('libphonenumber-js/max');
  lib ??= loaded;
}

/** The region a number written without its country code is read in (`TAILOR_DEFAULT_PHONE_REGION`). */
export type PhoneRegion = CountryCode;
export const DEFAULT_PHONE_REGION: PhoneRegion = 'US';

/** An ISO 3166 alpha-2 code the phone metadata knows (upper-case), or null. */
export function phoneRegionOf(code: string): PhoneRegion | null {
  const upper = code.trim().toUpperCase();
  // The default needs no look-up (and so no loading of the library while the environment is read).
  if (upper === DEFAULT_PHONE_REGION) return DEFAULT_PHONE_REGION;
  return /^[A-Z]{2}$/.test(upper) && phones().isSupportedCountry(upper) ? upper : null;
}

// Longer text is no phone number; refusing it early keeps the parser's work bounded.
const MAX_PHONE_CHARS = 64;
// What people write a number with: digits, an optional leading +, spaces, dashes, dots, brackets
// and slashes, and an optional extension (`ext. 12`, `x12`, `#12`; X matches the number without
// it). Anything else (letters, `tel:`, a label) is refused rather than guessed around: the
// library would otherwise pick a number out of any text.
const PHONE_TEXT = /^\+?[0-9\s\-.()/]+(?:\s*(?:ext\.?|x|#)\s*[0-9]{1,10})?$/i;

/**
 * The E.164 form (`+` and up to 15 digits) of a number valid for its region, or null. A number
 * without `+` is read in `region`; one starting with `00` (the international prefix of most of
 * the world) is read as international when it is not a valid national number of the region,
 * since regions such as the US dial abroad with another prefix (011) and would refuse it.
 */
export function toE164(value: string, region: PhoneRegion): string | null {
  const text = value.trim();
  if (text === '' || text.length > MAX_PHONE_CHARS || !PHONE_TEXT.test(text)) return null;
  const national = phones().parsePhoneNumberFromString(text, region);
  if (national?.isValid()) return national.number;
  const digits = text.replace(/[\s\-.()/]/g, '');
  if (digits.startsWith('00')) {
    const international = phones().parsePhoneNumberFromString(`+${digits.slice(2)}`);
    if (international?.isValid()) return international.number;
  }
  return null;
}

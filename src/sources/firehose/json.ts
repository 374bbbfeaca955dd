/**
 * The Firehose body parser. mParticle sends `mpid` as a JSON string holding a signed 64-bit
 * integer, which plain `JSON.parse` keeps exact. A sender that writes it as a bare JSON number
 * would lose digits in `JSON.parse` (anything beyond 2^53), so before parsing, an integer number
 * that is the value of an `mpid` key is wrapped in quotes, digit for digit. Everything else is
 * plain `JSON.parse`.
 */

// Cheap pre-check: the scan below runs only when some `mpid` is written as a number.
const MPID_NUMBER_HINT = /"mpid"\s*:\s*-?\d/;
// JSON's integer grammar: no leading zeros, so quoting never turns invalid JSON into valid JSON.
const JSON_INTEGER = /^-?(?:0|[1-9]\d*)$/;
const NUMBER_CHAR = /[0-9eE.+-]/;

export function parseFirehoseJson(text: string): unknown {
  return JSON.parse(MPID_NUMBER_HINT.test(text) ? quoteMpidNumbers(text) : text) as unknown;
}

/**
 * Wraps every integer value of an `mpid` key in quotes. Walks the text once, skipping string
 * contents (with their escapes), so an `"mpid":` inside a string value is never touched.
 */
export function quoteMpidNumbers(text: string): string {
  let out = '';
  let copied = 0;
  let lastString: string | null = null;
  let mpidValueNext = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = ++i;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      lastString = text.slice(start, i);
      mpidValueNext = false;
      i += 1;
      continue;
    }
    if (c === ':') {
      mpidValueNext = lastString === 'mpid';
      lastString = null;
      i += 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i += 1;
      continue;
    }
    if (mpidValueNext && (c === '-' || (c >= '0' && c <= '9'))) {
      const start = i;
      while (i < text.length && NUMBER_CHAR.test(text[i]!)) i += 1;
      const number = text.slice(start, i);
      if (JSON_INTEGER.test(number)) {
        out += `${text.slice(copied, start)}"${number}"`;
        copied = i;
      }
      mpidValueNext = false;
      continue;
    }
    mpidValueNext = false;
    lastString = null;
    i += 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

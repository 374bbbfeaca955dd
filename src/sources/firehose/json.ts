/**
 * The Firehose body parser. mParticle sends `mpid` as a JSON string holding a signed 64-bit
 * integer, which plain `JSON.parse` keeps exact. A sender that writes it as a bare JSON number
 * would lose digits in `JSON.parse` (anything beyond 2^53), so before parsing, an integer number
 * that is the value of an `mpid` key is wrapped in quotes, digit for digit. Everything else is
 * plain `JSON.parse`. A body that is not JSON is refused with the position of the mistake.
 */
import { jsonErrorPosition } from '../../core/json-position.ts';

// Cheap pre-check: the scan below runs only when some `mpid` is written as a number.
const MPID_NUMBER_HINT = /"mpid"\s*:\s*-?\d/;
// JSON's integer grammar: no leading zeros, so quoting never turns invalid JSON into valid JSON.
const JSON_INTEGER = /^-?(?:0|[1-9]\d*)$/;
const NUMBER_CHAR = /[0-9eE.+-]/;

/**
 * A body that is not JSON. The message names where the text goes wrong, never what it says:
 * V8's own messages quote the text around the error, which may be an identifier.
 */
export class JsonSyntaxError extends Error {
  constructor(readonly position: number | null) {
    super(position === null ? 'Body is not valid JSON' : `Body is not valid JSON (at position ${position})`);
    this.name = 'JsonSyntaxError';
  }
}

export function parseFirehoseJson(text: string): unknown {
  try {
    return JSON.parse(MPID_NUMBER_HINT.test(text) ? quoteMpidNumbers(text) : text) as unknown;
  } catch {
    // The scan runs on the text as sent: quoting mpid numbers would shift the positions.
    const at = jsonErrorPosition(text);
    throw new JsonSyntaxError(at === -1 ? null : at);
  }
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

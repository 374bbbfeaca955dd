/**
 * Where a text stops being JSON, for error messages that point at the mistake without quoting the
 * text (V8's JSON.parse messages quote the text around the error, which may be an identifier).
 */

const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX_DIGIT = /^[0-9a-fA-F]$/;

/**
 * The offset (0-based, in UTF-16 units, as V8 counts) of the first character at which `text`
 * stops being JSON (RFC 8259), or -1 when it is JSON. Iterative, so 100,000 levels of nesting
 * cost no stack. Run only after JSON.parse has failed.
 */
export function jsonErrorPosition(text: string): number {
  const n = text.length;
  const stack: string[] = [];
  let i = 0;
  let state: 'value' | 'key' | 'after' = 'value';
  const skipSpace = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i += 1;
  };
  /** Past a string starting at i; the error offset, or -1. */
  const string = (): number => {
    i += 1;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i += 1;
        return -1;
      }
      if (c < 0x20) return i;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          // V8 points at the first character of the four that is not a hex digit.
          for (let k = i + 2; k < i + 6; k += 1) if (!HEX_DIGIT.test(text[k] ?? '')) return k;
          i += 6;
        } else if (e !== undefined && ESCAPES.has(e)) i += 2;
        else return i + 1;
      } else i += 1;
    }
    return n;
  };
  const digits = (): boolean => {
    const start = i;
    while (i < n && text[i]! >= '0' && text[i]! <= '9') i += 1;
    return i > start;
  };
  /** Past a number starting at i; the error offset (where V8 reports it), or -1. */
  const number = (): number => {
    if (text[i] === '-') i += 1;
    if (text[i] === '0') i += 1;
    else if (!digits()) return i;
    if (text[i] === '.') {
      i += 1;
      if (!digits()) return i;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i += 1;
      if (text[i] === '+' || text[i] === '-') i += 1;
      if (!digits()) return i;
    }
    return -1;
  };
  for (;;) {
    skipSpace();
    if (state === 'key') {
      if (text[i] !== '"') return i;
      const bad = string();
      if (bad !== -1) return bad;
      skipSpace();
      if (text[i] !== ':') return i;
      i += 1;
      state = 'value';
      continue;
    }
    if (state === 'value') {
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c === '{' ? '}' : ']');
        i += 1;
        skipSpace();
        if (text[i] === stack[stack.length - 1]) {
          stack.pop();
          i += 1;
          state = 'after';
        } else state = c === '{' ? 'key' : 'value';
        continue;
      }
      if (c === '"') {
        const bad = string();
        if (bad !== -1) return bad;
      } else if (c === 't' || c === 'f' || c === 'n') {
        // V8 points at the first character that breaks the literal.
        const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
        for (const w of word) {
          if (text[i] !== w) return i;
          i += 1;
        }
      } else {
        const bad = number();
        if (bad !== -1) return bad;
      }
      state = 'after';
      continue;
    }
    // after a value
    if (stack.length === 0) return i < n ? i : -1;
    const c = text[i];
    if (c === ',') {
      i += 1;
      state = stack[stack.length - 1] === '}' ? 'key' : 'value';
    } else if (c === stack[stack.length - 1]) {
      stack.pop();
      i += 1;
    } else return i;
  }
}

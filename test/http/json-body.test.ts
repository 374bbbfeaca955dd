import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInPieces } from '../../src/http/json-body.ts';

describe('JSON parsed in pieces (src/http/json-body.ts)', () => {
  it('gives what JSON.parse gives, wherever the pieces are cut (inside strings, escapes, multi-byte characters)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.integer({ min: 1, max: 17 }), async (value, piece) => {
        const text = JSON.stringify(value);
        expect(await parseInPieces(Buffer.from(text), piece)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what JSON.parse refuses, with a 400', async () => {
    for (const text of ['{"add": [', '{"add": [1,]}', '{"a": 1} {"b": 2}', '{"a": 1} x', '', 'nul', '{"a": "\\x"}']) {
      let parseError: unknown = null;
      try {
        JSON.parse(text);
      } catch (err) {
        parseError = err;
      }
      expect(parseError, text).not.toBeNull();
      await expect(parseInPieces(Buffer.from(text), 3), text).rejects.toMatchObject({
        statusCode: 400,
        message: expect.stringMatching(/^Body is not valid JSON/),
      });
    }
  });

  it('gives the loop back between pieces: other work runs while a large body is parsed', async () => {
    const body = Buffer.from(JSON.stringify({ add: Array.from({ length: 20_000 }, (_, i) => ({ user_id: `u${i}`, email: `m${i}@example.com` })) }));
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const parsed = (await parseInPieces(body)) as { add: unknown[] };
    ticking = false;
    expect(parsed.add).toHaveLength(20_000);
    // One piece per 64 KB: the ticker ran between them.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(body.length / 65_536) - 1);
  });
});

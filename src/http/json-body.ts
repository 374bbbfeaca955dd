/**
 * JSON bodies of the bulk REST routes (members, suppressions, erasures), parsed without holding the
 * event loop. `JSON.parse` of a 100,000-member request (about 14 MB) takes over 100 ms in one
 * piece, during which no other caller is even read (issue 13: no piece of work over ~20 ms). A body
 * above PIECES_FROM_BYTES is fed to an incremental parser (@streamparser/json) a piece at a time,
 * with the loop free between pieces; a smaller one is parsed in one go as before, since there
 * the incremental parser's higher cost per byte would buy nothing.
 *
 * Prototype poisoning is refused as Fastify's own parser refuses it: a body that names
 * `__proto__` or `constructor` goes to Fastify's default parser, whatever its size.
 */
import { JSONParser } from '@streamparser/json';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { yieldLoop } from '../core/pace.ts';

/** Bodies above this are parsed in pieces. */
export const PIECES_FROM_BYTES = 1 << 20;
/** Bytes parsed between two yields: a few milliseconds of parsing. */
const PIECE_BYTES = 64 * 1024;

class InvalidJson extends Error {
  readonly statusCode = 400;
  readonly code = 'FST_ERR_CTP_INVALID_JSON_BODY';
}

/** The whole document of `body`, parsed a piece at a time. */
export async function parseInPieces(body: Buffer, pieceBytes = PIECE_BYTES): Promise<unknown> {
  const parser = new JSONParser({ paths: ['$'], keepStack: false });
  let root: { value: unknown } | null = null;
  let done = false;
  parser.onValue = ({ value, stack }) => {
    if (stack.length === 0) root = { value };
  };
  parser.onEnd = () => {
    done = true;
  };
  try {
    for (let at = 0; at < body.length; at += pieceBytes) {
      parser.write(body.subarray(at, at + pieceBytes));
      if (at + pieceBytes < body.length) await yieldLoop();
    }
    // A document that is complete ends the parser itself; one cut short does not.
    if (!done) parser.end();
  } catch (err) {
    throw new InvalidJson(`Body is not valid JSON: ${(err as Error).message}`);
  }
  if (!done || root === null) throw new InvalidJson('Body is not valid JSON: unexpected end of the body');
  return (root as { value: unknown }).value;
}

const POISON = [Buffer.from('__proto__'), Buffer.from('constructor')];

/** Replaces the scope's JSON parser: large bodies in pieces, everything else as Fastify parses it. */
export function parseLargeJsonInPieces(scope: FastifyInstance): void {
  const standard = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done) => {
    if (body.length <= PIECES_FROM_BYTES || POISON.some((word) => body.includes(word))) {
      void standard(req, body.toString(), done);
      return;
    }
    void parseInPieces(body).then(
      (value) => done(null, value),
      (err: Error) => done(err, undefined),
    );
  });
}

/**
 * Request bodies as the emulator keeps them. Form bodies (through @fastify/formbody) become
 * ordered pairs, because their parameters enter the OAuth base string; every other body is kept
 * raw, so each X route decides what it accepts (the users endpoint wants JSON, else 415) only
 * after the request is authenticated.
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { Pair } from '../oauth/signature.ts';

export class FormBody {
  constructor(
    readonly pairs: Pair[],
    readonly bytes: number,
  ) {}
}

export class RawBody {
  constructor(
    readonly contentType: string,
    readonly data: Buffer,
  ) {}
}

/**
 * Large enough that a body over X's 5,000,000-byte limit reaches the users route and gets X's
 * error after authentication; beyond this, the body is refused while it streams in.
 */
export const MAX_ACCEPTED_BODY_BYTES = 16 * 1024 * 1024;

export async function registerBodyParsers(app: FastifyInstance): Promise<void> {
  app.removeAllContentTypeParsers();
  await app.register(formbody, {
    bodyLimit: MAX_ACCEPTED_BODY_BYTES,
    // formbody types its result as a plain record; a class instance lets routes tell bodies apart.
    parser: (text: string) => new FormBody(parseFormPairs(text), Buffer.byteLength(text)) as unknown as Record<string, unknown>,
  });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ACCEPTED_BODY_BYTES }, (request, data, done) => {
    done(null, new RawBody(String(request.headers['content-type'] ?? ''), data as Buffer));
  });
}

/** application/x-www-form-urlencoded: "+" is a space, %XX decoded, order kept. */
export function parseFormPairs(text: string): Pair[] {
  return [...new URLSearchParams(text)].map(([k, v]) => [k, v] as const);
}

export function formPairsOf(body: unknown): Pair[] {
  return body instanceof FormBody ? body.pairs : [];
}

export function bodyBytesOf(body: unknown): number {
  if (body instanceof FormBody) return body.bytes;
  if (body instanceof RawBody) return body.data.length;
  return 0;
}

/** The media type without parameters, lower-case ("application/json; charset=utf-8" → "application/json"). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

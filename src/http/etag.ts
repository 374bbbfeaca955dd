/**
 * Cheap polling: an answer carries a weak ETag of its JSON, and a request whose If-None-Match
 * names it gets 304 with no body. The store is still read (the tag is the answer's own digest, so
 * it can never be stale); what a poll saves is the transfer and the browser's re-render.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export function etagOf(body: unknown): string {
  return `W/"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 27)}"`;
}

/** Sends `body` with its ETag, or 304 when the request already holds it. */
export function sendTagged<T>(req: FastifyRequest, reply: FastifyReply, body: T): T | FastifyReply {
  const tag = etagOf(body);
  reply.header('etag', tag).header('cache-control', 'no-cache');
  const held = req.headers['if-none-match'];
  if (typeof held === 'string' && held.split(',').some((t) => t.trim() === tag)) return reply.code(304).send();
  return body;
}

/**
 * Who is calling, for the audit log: the bearer guard (src/server/guards.ts) notes whether the
 * admin token or a web UI session let the request in, and routes read it back with `actorOf`.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../core/terms.ts';

const actors = new WeakMap<FastifyRequest, Actor>();

export function setActor(req: FastifyRequest, actor: Actor): void {
  actors.set(req, actor);
}

/** The request's actor; a route behind the bearer guard always has one (the admin token when unset). */
export function actorOf(req: FastifyRequest): Actor {
  return actors.get(req) ?? 'admin_token';
}

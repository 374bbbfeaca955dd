/**
 * The checks of each access class (access.ts), as route hooks. Each refuses in the one error
 * envelope (or, for a UI page, the UI's own answer) before the route's handler or body parser runs.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Transform, pipeline, type Readable } from 'node:stream';
import { MESSAGE_TYPES } from '../sources/firehose/schema.ts';
import type { Access, Guard } from './access.ts';
import { credential, secretsEqual } from '../http/auth.ts';
import { setActor } from '../http/actor.ts';
import { ApiError, sendError } from '../http/errors.ts';
import type { AllowedHosts } from './hosts.ts';
import type { SessionKeys } from './session.ts';

/**
 * Largest body of a Firehose request without a token while TAILOR_FIREHOSE_TOKEN is set: only a
 * `module_registration_request` is answered then, and mParticle's is about 2 KB (an envelope, no
 * data). 64 KB leaves room for a much longer one and keeps an unauthenticated caller from making
 * Tailor read (and hold) 16 MB.
 */
export const UNAUTHENTICATED_FIREHOSE_BODY_BYTES = 64 * 1024;

export interface GuardOptions {
  adminToken: string;
  firehoseToken: string | null;
  hosts: AllowedHosts;
  sessions: SessionKeys;
  /** How a UI route refuses a browser without a session (a redirect to sign-in, or a 401). */
  refuseSession: (req: FastifyRequest, reply: FastifyReply) => FastifyReply;
}

export function buildGuards(o: GuardOptions): Record<Access, Guard> {
  /** Refuses a Host Tailor does not answer to (DNS rebinding); true when it did. */
  const misdirected = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (o.hosts.allows(req.headers.host, req.url)) return false;
    req.log.warn({ route: req.routeOptions.url }, 'request for a Host Tailor does not answer to refused');
    void sendError(reply, 'misdirected', 'This Tailor does not answer to that Host; set TAILOR_PUBLIC_URL or TAILOR_ALLOWED_HOSTS to the name clients use');
    return true;
  };

  return {
    // Load balancers and scrapers call these under whatever name they were given (an IP, an
    // internal name), so no Host check; they hold nothing a rebinding page could use.
    health: {},
    public: {
      onRequest: async (req, reply) => {
        if (misdirected(req, reply)) return reply;
      },
    },
    session: {
      onRequest: async (req, reply) => {
        if (misdirected(req, reply)) return reply;
        if (!(await o.sessions.read(req))) return o.refuseSession(req, reply);
      },
    },
    bearer: {
      onRequest: async (req, reply) => {
        if (misdirected(req, reply)) return reply;
        const token = credential(req.headers.authorization, 'Bearer');
        if (token !== null && secretsEqual(token, o.adminToken)) return setActor(req, 'admin_token');
        // Or the web UI: no Authorization header, a valid session cookie, and for writes its CSRF header.
        if (req.headers.authorization === undefined && (await o.sessions.allowsApi(req))) return setActor(req, 'ui_session');
        return sendError(reply, 'unauthorized', 'Send Authorization: Bearer <TAILOR_ADMIN_TOKEN>');
      },
    },
    firehose: firehoseGuard(o.firehoseToken),
  };
}

/**
 * /firehose: the token is checked before the body is read (onRequest). A wrong credential is
 * refused at once. No Authorization header at all is mParticle's registration, which it sends
 * before it has minted the token: that body is read up to 64 KB and only a registration is
 * answered. Without TAILOR_FIREHOSE_TOKEN (Tailor then listens on loopback only, config.ts)
 * everything is accepted except requests from browsers: a web page can post to 127.0.0.1
 * (`Content-Type: text/plain` needs no CORS preflight), and browsers mark every POST with
 * `Origin`, which mParticle's servers do not send. No Host check: mParticle calls under whatever
 * name the URL it was given has (a proxy's, a tunnel's); the token, or the Origin refusal, is what
 * protects the route.
 */
function firehoseGuard(expected: string | null): Guard {
  const registrationOnly = new WeakSet<FastifyRequest>();
  if (expected === null) {
    return {
      onRequest: async (req, reply) => {
        if (req.headers.origin !== undefined)
          return sendError(reply, 'forbidden', 'Browsers may not call /firehose; set TAILOR_FIREHOSE_TOKEN to accept it from anywhere');
      },
    };
  }
  return {
    onRequest: async (req, reply) => {
      if (req.headers.authorization === undefined) {
        if (Number(req.headers['content-length']) > UNAUTHENTICATED_FIREHOSE_BODY_BYTES)
          return sendError(reply, 'unauthorized', 'Send Authorization: Token <TAILOR_FIREHOSE_TOKEN>');
        registrationOnly.add(req);
        return;
      }
      const token = credential(req.headers.authorization, 'Token');
      if (token === null || !secretsEqual(token, expected)) return sendError(reply, 'unauthorized', 'Send Authorization: Token <TAILOR_FIREHOSE_TOKEN>');
    },
    preParsing: async (req, _reply, payload) => (registrationOnly.has(req) ? capped(payload, UNAUTHENTICATED_FIREHOSE_BODY_BYTES) : payload),
    preHandler: async (req, reply) => {
      if (!registrationOnly.has(req)) return;
      const body = req.body as { type?: unknown } | null;
      if (typeof body !== 'object' || body === null || body.type !== MESSAGE_TYPES.registration)
        return sendError(reply, 'unauthorized', 'Send Authorization: Token <TAILOR_FIREHOSE_TOKEN>');
    },
  };
}

/** The payload, failing with a 413 once more than `limit` bytes came through. */
function capped(payload: Readable, limit: number): Readable {
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) done(new ApiError('payload_too_large', `Without a Firehose token only a registration is read, up to ${limit} bytes`));
      else done(null, chunk);
    },
  });
  // pipeline: an aborted upload ends the capped stream too, instead of leaving the parser waiting.
  pipeline(payload, cap, () => undefined);
  return cap;
}

import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '../core/errors.ts';
import type { Services } from '../services/deps.ts';
import { registerAudiences } from '../sources/rest/audiences.ts';
import { registerConfigurations } from '../sources/rest/configurations.ts';
import { registerConnections } from '../sources/rest/connections.ts';
import { registerMembers } from '../sources/rest/members.ts';
import { registerFirehose } from '../sources/firehose/index.ts';
import { credential, secretsEqual } from './auth.ts';
import { ApiError, sendError } from './errors.ts';
import { registerHealth } from './health.ts';
import { registerMetrics } from './metrics.ts';
import { SessionKeys } from './session.ts';
import { registerUi } from './ui.ts';

/**
 * Largest request body Tailor reads (REST members, Firehose batches). 16 MB holds 100,000 members
 * with every identifier; bigger uploads belong to `tailor import`.
 */
export const BODY_LIMIT_BYTES = 16 * 1024 * 1024;

export interface ServerOptions {
  adminToken: string;
  firehoseToken: string | null;
  /** The identity encoding /firehose registers (TAILOR_FIREHOSE_ENCODING); raw when absent. */
  firehoseEncoding?: 'raw' | 'sha256';
  /** TAILOR_PUBLIC_URL: where browsers reach Tailor (the X login's callback); null: the request's Host. */
  publicUrl?: string | null;
}

/** The HTTP app: health, /api/v1 (bearer auth), and the routes later issues add. */
export async function buildServer(s: Services, opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Typed as fastify's logger so routes registered elsewhere take a plain FastifyInstance.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: s.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Requests carry their id through every log line; a caller's own id is kept when it sends one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Fastify's own request lines carry the URL; ours (onResponse) carry the route pattern only.
    logController: new LogController({ disableRequestLogging: true }),
    // URLs the router refuses before any route or hook runs (bad percent-encoding, a path
    // parameter over 100 characters): the one error envelope, without echoing the URL back.
    frameworkErrors: (err, _req, reply) => {
      void sendError(reply, 'invalid_request', err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is longer than 100 characters' : 'The URL is not valid (bad percent-encoding)');
    },
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.addHook('onResponse', async (req, reply) => {
    // One line per request, without bodies or query strings (they may carry identifiers).
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  // The web UI's browser sessions (signed cookie + database row; session.ts), keyed from the admin token.
  const sessions = new SessionKeys(opts.adminToken, s.store, s.now);

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/v1')) return;
    const token = credential(req.headers.authorization, 'Bearer');
    if (token === null || !secretsEqual(token, opts.adminToken)) {
      // Or the web UI: no Authorization header, a valid session cookie, and for writes its CSRF header.
      if (req.headers.authorization === undefined && (await sessions.allowsApi(req))) return;
      return sendError(reply, 'unauthorized', 'Send Authorization: Bearer <TAILOR_ADMIN_TOKEN>');
    }
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof ApiError) return sendError(reply, err.code, err.message, err.details);
    if (err instanceof StoreUnavailableError) {
      req.log.error({ err: err.message }, 'store unavailable');
      return sendError(reply, 'unavailable', 'The change could not be stored durably; retry later');
    }
    const status = (err as FastifyError).statusCode;
    if (status === 413) return sendError(reply, 'payload_too_large', `Request body is larger than ${BODY_LIMIT_BYTES} bytes`);
    if (status === 415) return sendError(reply, 'unsupported_media_type', 'Send Content-Type: application/json');
    if (status !== undefined && status >= 400 && status < 500) return sendError(reply, 'invalid_request', err.message);
    req.log.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'internal error');
    return sendError(reply, 'internal', 'Internal error; see the server log for the request id');
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`));

  registerHealth(app, s);
  registerMetrics(app, s);
  registerConfigurations(app, s);
  registerAudiences(app, s);
  registerConnections(app, s);
  registerMembers(app, s);
  registerFirehose(app, s, opts);
  await registerUi(app, s, { sessions, publicUrl: opts.publicUrl ?? null });
  return app;
}

import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Refusal, StoreUnavailableError } from '../core/errors.ts';
import type { Services } from '../services/deps.ts';
import { registerAudiences } from '../sources/rest/audiences.ts';
import { registerAudit } from '../sources/rest/audit.ts';
import { registerConfigurations } from '../sources/rest/configurations.ts';
import { registerConnections } from '../sources/rest/connections.ts';
import { registerLookup } from '../sources/rest/lookup.ts';
import { registerMembers } from '../sources/rest/members.ts';
import { registerPrivacy } from '../sources/rest/privacy.ts';
import { registerFirehose } from '../sources/firehose/index.ts';
import { AccessScopes } from './access.ts';
import { ApiError, apiCodeOf, sendError } from '../http/errors.ts';
import { parseLargeJsonInPieces } from '../http/json-body.ts';
import { DESCRIBING_COMPILERS } from '../http/schema.ts';
import { buildGuards } from './guards.ts';
import { registerHealth } from './health.ts';
import { AllowedHosts } from './hosts.ts';
import { registerMetrics, timeRequests } from './metrics.ts';
import { collectOpenApi, registerOpenApi } from './openapi.ts';
import { SessionKeys } from './session.ts';
import { classifyUiRoute, refuseUiSession } from './ui-access.ts';
import { registerSetupHealth } from './setup-health.ts';
import { registerUi } from './ui.ts';
import { MAX_ID_CHARS } from '../core/ids.ts';

/**
 * Largest request body Tailor reads, on the two routes that carry members (REST members,
 * authenticated Firehose batches). 16 MB holds 100,000 members with every identifier; bigger
 * uploads belong to `tailor import`.
 */
export const BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Every other route's body limit. Their bodies are a name, a few toggles or a configuration's
 * two tokens, well under 2 KB; 64 KB is ample and keeps a caller from making Tailor buffer 16 MB
 * on a route that never needs it.
 */
export const SMALL_BODY_LIMIT_BYTES = 64 * 1024;

/** A client's `X-Request-Id` is kept only when it is a UUID, so log lines never carry text a caller chose. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What one client can hold. */
export interface ServerLimits {
  /** Longest time to receive one request, headers and body (TAILOR_REQUEST_TIMEOUT_MS); Node answers 408 and closes. */
  requestTimeoutMs: number;
  /**
   * A socket silent both ways this long is closed. Longer than any handler's work: a 100,000-member
   * request beside a saturating Firehose takes its turns in the SQLite writer with every message
   * and took 90-120 s (docs/benchmarks.md, session 9), and at 120 s its sender saw the connection
   * closed. Slow senders are bounded by requestTimeoutMs, idle keep-alive sockets by keepAliveTimeoutMs.
   */
  connectionTimeoutMs: number;
  /** How long an idle keep-alive connection stays open: above the 60 s idle timeout of common load balancers. */
  keepAliveTimeoutMs: number;
  /** Most open connections (TAILOR_MAX_CONNECTIONS); Node drops the ones above. */
  maxConnections: number;
}

export const DEFAULT_LIMITS: ServerLimits = { requestTimeoutMs: 30_000, connectionTimeoutMs: 600_000, keepAliveTimeoutMs: 72_000, maxConnections: 1000 };

export interface ServerOptions {
  adminToken: string;
  firehoseToken: string | null;
  /** The identity encoding /firehose registers (TAILOR_FIREHOSE_ENCODING); raw when absent. */
  firehoseEncoding?: 'raw' | 'sha256';
  /** TAILOR_PUBLIC_URL: where browsers reach Tailor (the X login's callback); null: the request's Host. */
  publicUrl?: string | null;
  /** TAILOR_HOST, where the server will listen (for the Host check); loopback when absent. */
  listenHost?: string;
  /** TAILOR_ALLOWED_HOSTS. */
  allowedHosts?: readonly string[];
  limits?: Partial<ServerLimits>;
}

/** The HTTP app: every route inside its access scope (access.ts), with bounded work per client. */
export async function buildServer(s: Services, opts: ServerOptions): Promise<FastifyInstance> {
  return build(s, opts, 'serve');
}

/**
 * `serve` answers requests; `document` is the same app built once more, on the first request for
 * the OpenAPI document, only to collect its routes' schemas (@fastify/swagger and the YAML library
 * it loads are about 260 modules, a tenth of start-up, for a page few callers ask for).
 */
async function build(s: Services, opts: ServerOptions, mode: 'serve' | 'document'): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const app = Fastify({
    // Typed as fastify's logger so routes registered elsewhere take a plain FastifyInstance.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: s.log as FastifyBaseLogger,
    bodyLimit: SMALL_BODY_LIMIT_BYTES,
    schemaController: { compilersFactory: DESCRIBING_COMPILERS },
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      // Headers are small: a client dripping them (slowloris) is cut well before the request timeout.
      headersTimeout: Math.min(10_000, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for expired requests this often (30 s by default, which would double the timeout).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.requestTimeoutMs / 10))),
    },
    // Requests carry their id through every log line: Tailor's own, or a caller's when it is a UUID.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && UUID.test(given) ? given.toLowerCase() : randomUUID();
    },
    // Fastify's own request lines carry the URL; ours (onResponse) carry the route pattern only.
    logController: new LogController({ disableRequestLogging: true }),
    // Path parameters are ids: none may be longer than an id (src/core/ids.ts).
    routerOptions: { maxParamLength: MAX_ID_CHARS },
    // URLs the router refuses before any route or hook runs (bad percent-encoding, a path
    // parameter longer than an id): the one error envelope, without echoing the URL back.
    frameworkErrors: (err, _req, reply) => {
      void sendError(
        reply,
        'invalid_request',
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `A path parameter is longer than ${MAX_ID_CHARS} characters (the longest id)`
          : 'The URL is not valid (bad percent-encoding)',
      );
    },
  });

  app.server.maxConnections = limits.maxConnections;

  // Root hooks first: scopes registered below inherit them.
  timeRequests(app);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.addHook('onResponse', async (req, reply) => {
    // One line per request, without bodies or query strings (they may carry identifiers).
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof ApiError) return sendError(reply, err.code, err.message, err.details);
    if (err instanceof Refusal) return sendError(reply, apiCodeOf(err.code), err.message);
    if (err instanceof StoreUnavailableError) {
      req.log.error({ err: err.message }, 'store unavailable');
      return sendError(reply, 'unavailable', 'The change could not be stored durably; retry later');
    }
    const status = (err as FastifyError).statusCode;
    if (status === 413) return sendError(reply, 'payload_too_large', `Request body is larger than ${req.routeOptions.bodyLimit} bytes`);
    if (status === 415) return sendError(reply, 'unsupported_media_type', 'Send Content-Type: application/json');
    if (status !== undefined && status >= 400 && status < 500) return sendError(reply, 'invalid_request', err.message);
    req.log.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'internal error');
    return sendError(reply, 'internal', 'Internal error; see the server log for the request id');
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`));

  // The web UI's browser sessions (signed cookie + database row; session.ts), keyed from the admin token.
  const sessions = new SessionKeys(opts.adminToken, s.store, s.now);
  const hosts = new AllowedHosts({ listenHost: opts.listenHost ?? '127.0.0.1', publicUrl: opts.publicUrl ?? null, allowedHosts: opts.allowedHosts ?? [] });
  const scopes = new AccessScopes(
    app,
    buildGuards({ adminToken: opts.adminToken, firehoseToken: opts.firehoseToken, hosts, sessions, refuseSession: refuseUiSession }),
  );

  // Built at the first request for it; a failed build is tried again by the next.
  let document: Promise<unknown> | null = null;
  const retry = (err: unknown): never => {
    document = null;
    throw err;
  };
  // Before any route: the OpenAPI document is built from the routes' schemas as they register.
  if (mode === 'document') await collectOpenApi(app);
  await scopes.register('health', (scope) => {
    registerHealth(scope, s);
    registerMetrics(scope, s);
  });
  await scopes.register('bearer', (scope) => {
    registerConfigurations(scope, s);
    registerAudiences(scope, s);
    registerConnections(scope, s);
    registerLookup(scope, s);
    registerAudit(scope, s);
    registerSetupHealth(scope, s);
  });
  await scopes.register(
    'bearer',
    (scope) => {
      // Up to 100,000 members in a body: parsed in pieces, the event loop free between them.
      parseLargeJsonInPieces(scope);
      registerMembers(scope, s);
      registerPrivacy(scope, s);
    },
    { bodyLimit: BODY_LIMIT_BYTES },
  );
  // POST /firehose and its status page for the admin, GET /api/v1/firehose, come from one function.
  await scopes.register(
    (_method, url) => (url.startsWith('/api/') ? 'bearer' : 'firehose'),
    (scope) => registerFirehose(scope, s, opts),
    { bodyLimit: BODY_LIMIT_BYTES },
  );
  // The API's description and its docs page: public, like the sign-in page (openapi.ts says why).
  await scopes.register('public', (scope) =>
    registerOpenApi(scope, mode === 'document' ? async () => app.swagger() : () => (document ??= openApiDocument(s, opts).catch(retry))),
  );
  // UI forms are small (a token, a name, an account id): the form parser's 16 KB, here too.
  await scopes.register(classifyUiRoute, (scope) => registerUi(scope, s, { sessions, publicUrl: opts.publicUrl ?? null }), { bodyLimit: 16 * 1024 });
  return app;
}

/** The OpenAPI document, from an app built only to collect it (the same routes, the same options). */
async function openApiDocument(s: Services, opts: ServerOptions): Promise<unknown> {
  const app = await build(s, opts, 'document');
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}

/**
 * The path every /12/ call takes, in order:
 *   authenticate (401) → injected 429 burst → rate limit (429) → injected latency (plus the
 *   start-up users latency on `users` calls) →
 *   injected drop (before) → injected 5xx → the route's handler → injected drop (after).
 * Each answer carries x-rate-limit-* headers once the token is known, and is logged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessToken } from '../oauth/token-store.ts';
import { authenticate } from '../oauth/authenticate.ts';
import type { RateFamily } from '../limits/families.ts';
import { sleep } from '../util/time.ts';
import { TIMESTAMP_WINDOW_MS, type World } from '../world/world.ts';
import { formPairsOf } from './body.ts';
import { ParamBag } from './param-bag.ts';
import { type CallFields, recordCall } from './record-call.ts';
import { authRequestOf, queryPairs } from './request-info.ts';
import { NO_ADS_API_ACCESS, RATE_LIMITED, serverError, UNAUTHORIZED_BODY, XError, xErrorBody } from './x-error.ts';

export interface XContext {
  world: World;
  /** X's time (world/clock.ts), not the wall clock that authentication and rate limits use. */
  now: number;
  token: AccessToken;
  /** Path parameters (account_id, custom_audience_id). */
  path: Record<string, string>;
  params: ParamBag;
  body: unknown;
  /** Echoed as request.params in the answer, errors included. */
  echo: Record<string, unknown>;
  /** Filled in by handlers for the request log. */
  notes: CallFields;
}

export interface XAnswer {
  status: number;
  body: unknown;
}

export interface XRouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** "METHOD name" as counted in the stats. */
  route: string;
  family: (params: ParamBag) => RateFamily;
  /** The users endpoint: `only: "users"` faults hit it alone. */
  isUsers?: boolean;
  handle: (ctx: XContext) => XAnswer;
}

export function registerXRoute(app: FastifyInstance, world: World, spec: XRouteSpec): void {
  app.route({
    method: spec.method,
    url: spec.url,
    handler: async (request, reply) => runXCall(world, spec, request, reply),
  });
}

async function runXCall(world: World, spec: XRouteSpec, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const at = Date.now();
  const path = { ...(request.params as Record<string, string>) };
  const notes: CallFields = { account_id: path.account_id ?? null, audience_id: path.custom_audience_id ?? null };
  const done = (status: number): void => recordCall(world, request, at, spec.route, status, notes);

  const auth = authenticate(
    { ...world.settings, tokens: world.tokens, nonces: world.nonces, timestampWindowMs: TIMESTAMP_WINDOW_MS, clockSkewMs: world.config.clockSkewMs },
    authRequestOf(request),
    'access',
    at,
  );
  if (!auth.ok || auth.token?.kind !== 'access') {
    notes.auth_failure = auth.ok ? 'unknown_token' : auth.reason;
    await reply.code(401).header('x-emulator-auth-failure', notes.auth_failure).send(UNAUTHORIZED_BODY);
    done(401);
    return;
  }
  const token = auth.token;
  notes.token = token.token;

  const echo: Record<string, unknown> = { ...path };
  const params = new ParamBag([...queryPairs(request.raw.url ?? '/'), ...formPairsOf(request.body)], echo);
  const family = spec.family(params);
  const send = async (status: number, body: unknown): Promise<void> => {
    await reply.code(status).send(body);
    done(status);
  };

  // An app X has not approved for the Ads API (adsApiAccess, options.ts): X's answer to every call.
  if (!world.config.adsApiAccess) return send(403, xErrorBody([NO_ADS_API_ACCESS], echo));

  const fault = world.faults.decide(spec.isUsers === true, at);
  if (fault.kind !== 'none') {
    world.stats.faultsInjected++;
    notes.fault = fault.kind;
  }
  if (fault.kind === 'rate_limit') {
    setRateHeaders(reply, world.limiter.limitOf(family).limit, 0, fault.resetS);
    notes.rate_limit_reset = fault.resetS;
    await sleep(fault.latencyMs);
    return send(429, xErrorBody([RATE_LIMITED], echo));
  }
  const rate = world.limiter.hit(token.token, family, at);
  setRateHeaders(reply, rate.limit, rate.remaining, rate.resetS);
  notes.rate_limit_reset = rate.resetS;
  if (fault.latencyMs > 0) {
    notes.fault ??= 'latency';
    await sleep(fault.latencyMs);
  }
  // A distant X (usersLatencyMs, options.ts): every users call waits, not a fault, not counted as one.
  if (spec.isUsers === true && world.config.usersLatencyMs > 0) await sleep(world.config.usersLatencyMs);
  if (!rate.allowed) return send(429, xErrorBody([RATE_LIMITED], echo));
  if (fault.kind === 'drop_before') return drop(reply, done);
  if (fault.kind === 'error') return send(fault.status, xErrorBody([serverError(fault.status)], echo));

  let answer: XAnswer;
  try {
    answer = spec.handle({ world, now: world.clock.now(), token, path, params, body: request.body, echo, notes });
  } catch (err) {
    if (!(err instanceof XError)) throw err;
    answer = { status: err.status, body: xErrorBody(err.errors, echo, err.extra) };
  }
  if (fault.kind === 'drop_after') return drop(reply, done);
  return send(answer.status, answer.body);
}

function setRateHeaders(reply: FastifyReply, limit: number, remaining: number, resetS: number): void {
  reply.header('x-rate-limit-limit', String(limit));
  reply.header('x-rate-limit-remaining', String(remaining));
  reply.header('x-rate-limit-reset', String(resetS));
}

/** The connection dies without an answer, as when a proxy or X's front end fails mid-call. */
function drop(reply: FastifyReply, done: (status: number) => void): void {
  reply.hijack();
  reply.raw.socket?.destroy();
  done(0);
}

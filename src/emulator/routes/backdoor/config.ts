/**
 * GET and POST /_emulator/config: the settings a test may change while running.
 *   {"users_rate_limit": {"limit", "window_ms"}, "sizing_delay_ms", "users_latency_ms", "rate_limits": {family: {"limit", "window_ms"}},
 *    "callback_urls": [url, …] | null, "clock_skew_ms": n, "ads_api_access": bool}
 * A new limit starts fresh windows for its family.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RATE_FAMILIES, type RateFamily } from '../../limits/families.ts';
import { MAX_CLOCK_SKEW_MS } from '../../options.ts';
import type { World } from '../../world/world.ts';
import { backdoorError } from './backdoor-error.ts';
import { readJson } from './faults.ts';

const limitSchema = z.strictObject({ limit: z.int().min(1), window_ms: z.int().min(1) });
const configSchema = z.strictObject({
  users_rate_limit: limitSchema.optional(),
  sizing_delay_ms: z.int().min(0).optional(),
  users_latency_ms: z.int().min(0).max(600_000).optional(),
  rate_limits: z.partialRecord(z.enum(RATE_FAMILIES as [RateFamily, ...RateFamily[]]), limitSchema).optional(),
  callback_urls: z.array(z.string().min(1)).nullable().optional(),
  clock_skew_ms: z.int().min(-MAX_CLOCK_SKEW_MS).max(MAX_CLOCK_SKEW_MS).optional(),
  ads_api_access: z.boolean().optional(),
});

export function registerConfig(app: FastifyInstance, world: World): void {
  const state = () => {
    const limits = world.limiter.allLimits();
    const users = limits.users;
    return {
      users_rate_limit: { limit: users.limit, window_ms: users.windowMs },
      sizing_delay_ms: world.config.sizingDelayMs,
      users_latency_ms: world.config.usersLatencyMs,
      callback_urls: world.config.callbackUrls,
      clock_skew_ms: world.config.clockSkewMs,
      ads_api_access: world.config.adsApiAccess,
      rate_limits: Object.fromEntries(RATE_FAMILIES.map((f) => [f, { limit: limits[f].limit, window_ms: limits[f].windowMs }])),
    };
  };

  app.get('/_emulator/config', async () => state());

  app.post('/_emulator/config', async (request, reply) => {
    const parsed = configSchema.safeParse(readJson(request.body));
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return backdoorError(reply, 400, 'INVALID_PARAMETER', why);
    }
    const body = parsed.data;
    for (const [family, limit] of Object.entries(body.rate_limits ?? {})) {
      if (limit) world.limiter.setLimit(family as RateFamily, { limit: limit.limit, windowMs: limit.window_ms });
    }
    if (body.users_rate_limit) {
      world.limiter.setLimit('users', { limit: body.users_rate_limit.limit, windowMs: body.users_rate_limit.window_ms });
    }
    if (body.sizing_delay_ms !== undefined) world.config.sizingDelayMs = body.sizing_delay_ms;
    if (body.users_latency_ms !== undefined) world.config.usersLatencyMs = body.users_latency_ms;
    if (body.clock_skew_ms !== undefined) world.config.clockSkewMs = body.clock_skew_ms;
    if (body.ads_api_access !== undefined) world.config.adsApiAccess = body.ads_api_access;
    if (body.callback_urls !== undefined) world.config.callbackUrls = body.callback_urls === null ? null : [...body.callback_urls];
    return state();
  });
}

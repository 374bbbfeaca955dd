/**
 * Setup › Health's data: the setup checks of `tailor doctor` (run on each request; they call X, so
 * the page asks when opened and on demand, never on its poll) and the recent alert events with
 * their webhook delivery.
 *
 *   GET /api/v1/health/checks   the checks (src/doctor/checks.ts)
 *   GET /api/v1/events?limit=N  the newest alert events first (N ≤ 200, default 50)
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../http/schema.ts';
import { parse } from '../http/validate.ts';
import type { Services } from '../services/deps.ts';
import { alertEventViewSchema, healthReportSchema, type AlertEventView } from '../services/views.ts';
import type { WebhookEvent } from '../store/port.ts';

const TAGS = ['health'];
const query = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).optional() });

export function registerSetupHealth(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/v1/health/checks',
    {
      schema: {
        tags: TAGS,
        summary: 'Run the setup checks of `tailor doctor` now (environment, database, X app, configurations, clock)',
        response: { 200: healthReportSchema, ...errorResponses() },
      },
    },
    async () => s.doctor(),
  );
  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: TAGS,
        summary: 'Recent alert events and their webhook delivery, newest first',
        querystring: query,
        response: { 200: z.object({ data: z.array(alertEventViewSchema) }), ...errorResponses('invalid_request') },
      },
    },
    async (req) => {
      const { limit } = parse(query, req.query);
      return { data: (await s.store.listWebhookEvents(limit ?? 50)).map(eventView) };
    },
  );
}

function eventView(e: WebhookEvent): AlertEventView {
  const body = JSON.parse(e.body) as { text?: string; objects?: Record<string, unknown>; details?: Record<string, unknown> };
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: e.id,
    type: e.type,
    time: new Date(e.occurredAt).toISOString(),
    text: body.text ?? '',
    objects: body.objects ?? {},
    details: body.details ?? {},
    delivery: e.delivery,
    attempts: e.attempts,
    next_attempt_at: e.delivery === 'pending' ? iso(e.nextAttemptAt) : null,
    last_status: e.lastStatus,
    last_error: e.lastError,
    delivered_at: iso(e.deliveredAt),
  };
}

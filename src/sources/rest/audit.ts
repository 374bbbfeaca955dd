import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/schema.ts';
import { parse } from '../../http/validate.ts';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, auditPage } from '../../services/audit-view.ts';
import type { Services } from '../../services/deps.ts';
import { auditPageSchema } from '../../services/views.ts';

const query = z.strictObject({
  cursor: z.string().min(1).max(64).optional().describe('`next_cursor` of the previous page'),
  limit: z.coerce
    .number(`must be a whole number from 1 to ${AUDIT_PAGE_MAX}`)
    .int(`must be a whole number from 1 to ${AUDIT_PAGE_MAX}`)
    .min(1)
    .max(AUDIT_PAGE_MAX)
    .optional()
    .describe(`Entries per page (default ${AUDIT_PAGE_DEFAULT}, at most ${AUDIT_PAGE_MAX})`),
});

/** GET /api/v1/audit: the append-only audit log, newest first, by cursor (docs/privacy.md). */
export function registerAudit(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const schema = {
    tags: ['audit'],
    summary: 'The audit log: every change of a configuration, audience, connection, suppression or erasure, newest first',
    querystring: query,
    response: { 200: auditPageSchema, ...errorResponses() },
  };
  app.get('/api/v1/audit', { schema }, async (req) => auditPage(s, parse(query, req.query, 'query')));
}

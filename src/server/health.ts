import type { FastifyInstance } from 'fastify';
import type { Services } from '../services/deps.ts';

/** /healthz: the process answers. /readyz: the database takes a write, so changes can be accepted. */
export function registerHealth(app: FastifyInstance, s: Services): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await s.store.ping();
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', reason: err instanceof Error ? err.message : String(err) });
    }
  });
}
